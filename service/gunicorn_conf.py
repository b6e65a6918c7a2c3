"""gunicorn settings of the web processes (docker-compose.yml and the Dockerfile load them with
``--config python:service.gunicorn_conf``): an access log on stdout that holds no query string
and no client address (service.request_log)."""

from service.request_log import ACCESS_LOG_FORMAT

accesslog = "-"
access_log_format = ACCESS_LOG_FORMAT
