"""The data verbs of ``airflow-pachyderm`` (pachctl's daily verbs on lakeFS).

One module per verb family; each exposes ``add_arguments(parser)`` and ``run(args)`` for the
lazy table in :mod:`airflow_pachyderm.cli`. Modules import lakeFS clients inside ``run`` so
that ``--help`` stays fast.
"""
