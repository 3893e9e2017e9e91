"""`planguard serve`: the HCP Terraform / Terraform Enterprise run task.

HCP Terraform POSTs a signed request at `post_plan` or `pre_apply`; the server
answers at once and, in the background, fetches the run's plan JSON with the
short-lived token it was given, reviews it with the one engine
(planguard.engine) under the server's own policy, and PATCHes the result
(passed or failed, the headline, a link to the report, one outcome per
finding) to the callback URL. See the Run Tasks Integration API:
https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run-tasks/run-tasks-integration

The modules, in the order a request meets them:

- `app`: the ASGI app (Starlette): intake, `/healthz`, the report pages;
- `signature`: the `X-TFC-Task-Signature` HMAC-SHA512 check;
- `payload`: the request's schema;
- `hosts`: which origins may see the access token, where a redirect may go;
- `jobs`: the bounded queue and its workers;
- `fetch`: the plan JSON, redirect rules and size bound;
- `reviewer`, `child`: the review, in long-lived worker processes;
- `results`: the task-results body (message, outcomes);
- `callback`: the PATCH, retried with back-off;
- `reports`, `html`: the rendered report kept for a while at an unguessable path;
- `settings`, `policy`, `logs`, `serve`: configuration, the policy source,
  JSON-lines logs, and running it under uvicorn.

Everything here needs the `server` extra (starlette, uvicorn, httpx,
markdown-it-py); nothing else in planguard imports this package.
"""
