"""The organiser part of the authorisation matrix (tests/web/access/__init__.py): the
organiser's pages and the RQ dashboard mounted under /organiser/rq (web/organiser_rq.py)."""

from __future__ import annotations

from tests.web.access import Route, only

ORGANISER = only("organiser")

PAGES = [
    ("organiser.index", "GET", "/organiser/"),
    ("organiser.create_contest", "POST", "/organiser/contest"),
    ("organiser.publish_rules", "POST", "/organiser/rules"),
    ("organiser.call_documents", "POST", "/organiser/documents/call"),
    ("organiser.registrations", "GET", "/organiser/registrations"),
    ("organiser.team", "GET", "/organiser/teams/{id}"),
    ("organiser.document", "GET", "/organiser/teams/{id}/documents/identity_proof"),
    ("organiser.approve", "POST", "/organiser/teams/{id}/approve"),
    ("organiser.reject", "POST", "/organiser/teams/{id}/reject"),
    ("organiser.clear_match", "POST", "/organiser/teams/{id}/clear"),
    ("organiser.blacklist", "GET", "/organiser/blacklist"),
    ("organiser.blacklist", "POST", "/organiser/blacklist"),
    ("organiser.round_page", "GET", "/organiser/round"),
    ("organiser.add_testset_view", "POST", "/organiser/testsets"),
    ("organiser.debug_phase", "POST", "/organiser/debug-phase/open"),
    ("organiser.debug_phase", "POST", "/organiser/debug-phase/close"),
    ("organiser.experts", "GET", "/organiser/experts"),
    ("organiser.enrol_expert", "POST", "/organiser/experts"),
    ("organiser.publish_agreement", "POST", "/organiser/experts/agreement"),
    ("organiser.judging", "GET", "/organiser/judging?track=7"),
    ("organiser.judging", "POST", "/organiser/judging?track=7"),
    ("organiser.publish", "POST", "/organiser/results/publish?track=7"),
    ("organiser.final", "POST", "/organiser/final/advance?track=7"),
    ("organiser.final", "POST", "/organiser/final/award?track=7"),
    ("organiser.certificate_pdf", "GET", "/organiser/final/certificate/{id}?track=7"),
]

# The RQ dashboard's routes (rq_dashboard 0.9), each with a path that reaches it.
RQ = "/organiser/rq"
DASHBOARD = [
    ("static", "GET", f"{RQ}/static/css/main.css"),
    ("favicon", "GET", f"{RQ}/favicon.ico"),
    ("queues_overview", "GET", f"{RQ}/"),
    ("workers_overview", "GET", f"{RQ}/0/view/workers"),
    ("jobs_overview", "GET", f"{RQ}/0/view/jobs"),
    ("job_view", "GET", f"{RQ}/0/view/job/no-such-job"),
    ("delete_job_view", "POST", f"{RQ}/job/no-such-job/delete"),
    ("requeue_job_view", "POST", f"{RQ}/job/no-such-job/requeue"),
    ("requeue_all", "GET", f"{RQ}/requeue/default"),
    ("requeue_all", "POST", f"{RQ}/requeue/default"),
    ("empty_queue", "POST", f"{RQ}/queue/default/failed/empty"),
    ("compact_queue", "POST", f"{RQ}/queue/default/compact"),
    ("list_queues", "GET", f"{RQ}/0/data/queues.json"),
    ("list_jobs", "GET", f"{RQ}/0/data/jobs/default/queued/8/asc/1.json"),
    ("job_info", "GET", f"{RQ}/0/data/job/no-such-job.json"),
    ("list_workers", "GET", f"{RQ}/0/data/workers.json"),
]

ROUTES = [Route(endpoint, method, path, ORGANISER) for endpoint, method, path in PAGES] + [
    Route(f"rq_dashboard.{endpoint}", method, path, ORGANISER)
    for endpoint, method, path in DASHBOARD
]
