"""Jobs: one run of a pipeline, in three steps (plan, process batches, commit).

This package joins the datum engine, the runners and lakeFS. It knows nothing of Airflow
except in its command-line modules; the operators call it.
"""
