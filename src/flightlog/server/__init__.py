"""`flightlog server`: MLflow's REST API 2.0 (tracking + artifact proxy) over the SQL store.

Layout (one job per module):
- settings.py     what the server was started with (from the CLI, handed to workers via env);
- app.py          the FastAPI app factory; routers come from ROUTER_MODULES;
- auth.py         bearer-token check; limits.py: request body size limits;
- errors.py       every error becomes MLflow's `{"error_code", "message"}` JSON;
- schemas.py      request models (they also make /openapi.json meaningful);
- wire.py         entities -> MLflow's response JSON;
- api_meta.py     /health, /version, server-info;
- api_tracking.py experiments, runs, metrics;
- api_artifacts.py the `mlflow-artifacts` proxy and runs' artifact listing;
- runner.py       starting uvicorn with one or more workers.

Nothing heavy is imported here, so `import flightlog.server` stays cheap.
"""
