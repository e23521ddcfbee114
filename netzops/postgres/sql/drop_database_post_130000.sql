-- Drop a throwaway database, ending any session still connected to it.
DROP DATABASE IF EXISTS {name} WITH (FORCE)
