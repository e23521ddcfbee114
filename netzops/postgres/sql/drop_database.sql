-- Drop a throwaway database (servers before 13 have no FORCE).
DROP DATABASE IF EXISTS {name}
