# planguard serve: the HCP Terraform / Terraform Enterprise run task.
#   docker build -t planguard .
#   docker run -p 8080:8080 -e PLANGUARD_HMAC_KEY=... -v /etc/planguard:/policy:ro planguard \
#     --policy /policy/policy.yml --public-url https://planguard.example.com
FROM python:3.11-slim
# git only for --policy git+URL@COMMIT
RUN apt-get update && apt-get install -y --no-install-recommends git \
 && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN pip install --no-cache-dir "/src[server]" && rm -rf /src \
 && useradd --system --uid 10001 --create-home --home-dir /home/planguard planguard
USER planguard
WORKDIR /home/planguard
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3).status != 200)"]
ENTRYPOINT ["planguard", "serve", "--host", "0.0.0.0", "--port", "8080"]
