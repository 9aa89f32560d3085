"""An embedded lakeFS-compatible server (a subset of lakeFS's ``/api/v1``).

For development, the demo and tests: ``airflow-pachyderm lakefs-server --data-dir DIR`` or,
from Python, :class:`airflow_pachyderm.server.process.LakeFSServerProcess`. Production points
the same lakeFS connection at a real lakeFS.
"""
