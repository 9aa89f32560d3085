"""Operators of the generated pipeline DAGs: plan -> process (mapped) -> commit."""

from airflow_pachyderm.operators.commit import CommitOperator, PublishOperator
from airflow_pachyderm.operators.egress import EgressOperator
from airflow_pachyderm.operators.plan import PlanOperator
from airflow_pachyderm.operators.process import ProcessBatchOperator

__all__ = [
    "CommitOperator",
    "EgressOperator",
    "PlanOperator",
    "ProcessBatchOperator",
    "PublishOperator",
]
