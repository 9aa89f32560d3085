"""The ``lakefs`` connection type: its form, declared once for the hook and the provider info.

No Airflow import here: ``get_provider_info()`` must stay cheap.
"""

from __future__ import annotations

import json
from typing import Any

CONN_TYPE = "lakefs"
HOOK_CLASS = "airflow_pachyderm.lakefs.hook.LakeFSHook"

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {
        "host": "lakeFS endpoint URL",
        "login": "Access key ID",
        "password": "Secret access key",
    },
    "placeholders": {
        "host": "http://127.0.0.1:8000",
        "login": "AKIAIOSFODNN7EXAMPLE",
        "extra": json.dumps({"storage_namespace": "s3://my-bucket/{repo}"}),
    },
}


def provider_ui_field_behaviour() -> dict[str, Any]:
    """The same form in provider-info spelling (hyphenated keys)."""
    return {key.replace("_", "-"): value for key, value in UI_FIELD_BEHAVIOUR.items()}
