import sys

from airflow_pachyderm.cli import main

sys.exit(main())
