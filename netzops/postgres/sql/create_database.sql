-- An empty database to restore into (a verification's throwaway database).
CREATE DATABASE {name} TEMPLATE template0
