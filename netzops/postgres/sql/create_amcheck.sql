-- amcheck in a throwaway database, to check its B-tree indexes after a restore.
CREATE EXTENSION IF NOT EXISTS amcheck
