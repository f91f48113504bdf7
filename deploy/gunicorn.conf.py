"""gunicorn's settings for a deployment that starts gunicorn itself (systemd, a container):

    gunicorn -c deploy/gunicorn.conf.py 'web.serving:wsgi()'

``huiyan serve`` uses the same settings (web/serving.py: gunicorn_options), so the two never
drift apart. Override with the environment: HUIYAN_BIND_HOST, HUIYAN_BIND_PORT,
HUIYAN_WORKERS, HUIYAN_THREADS; HUIYAN_BEHIND_PROXY=1 behind a TLS-ending proxy.
With PROMETHEUS_MULTIPROC_DIR set, the workers' request metrics add up (docs/operations.md).
"""

import os

from ledger.settings import Settings
from web.metrics import clear_metrics_dir
from web.serving import DEFAULT_HOST, DEFAULT_PORT, gunicorn_options

globals().update(
    gunicorn_options(
        host=os.environ.get("HUIYAN_BIND_HOST", DEFAULT_HOST),
        port=int(os.environ.get("HUIYAN_BIND_PORT", DEFAULT_PORT)),
        workers=int(os.environ["HUIYAN_WORKERS"]) if os.environ.get("HUIYAN_WORKERS") else None,
        threads=int(os.environ.get("HUIYAN_THREADS", "4")),
    )
)


def on_starting(server):
    """Before any worker starts: no metric file of a previous run is counted again."""
    clear_metrics_dir(Settings.from_env())
