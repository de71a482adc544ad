"""The shipped evaluation set of enterprise-phrased queries (``starter_queries.csv``)."""
