# Airflow DAGs of the demo's pipelines (model, inference): one DAG per pipeline spec.
# Copy this file into your DAGs folder, next to the spec file, or adjust the path.
from airflow_pachyderm import load_pipelines

load_pipelines("../ml/pipelines.yaml", globals())
