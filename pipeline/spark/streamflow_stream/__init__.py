"""StreamFlow's Spark Structured Streaming job: CDC topic -> validated users and analytics in Cassandra."""
