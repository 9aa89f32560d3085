"""A local deployment: the embedded lakeFS server and a lean Airflow of real processes."""
