FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --system vetted
USER vetted
EXPOSE 8000
CMD ["gunicorn", "--config", "python:service.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "4", "service:create_app()"]
