"""The one list of Vetted's settings, each with its default and the reason for it.

Settings are read in this order, later winning: the defaults below, then environment
variables prefixed ``VETTED_`` (``VETTED_DATABASE_URL=...``; values are parsed as JSON when
they can be, so ``VETTED_RATELIMIT_ENABLED=false`` is a boolean), then the mapping given to
``create_app`` (tests use it).
"""

from __future__ import annotations

from typing import Any

DEFAULTS: dict[str, Any] = {
    # Signs author tokens. Generated into the instance folder when unset (embedded default);
    # production sets it so that every web process signs alike.
    "SECRET_KEY": None,
    # SQLAlchemy URL. SQLite in the instance folder by default; PostgreSQL in production,
    # e.g. postgresql+psycopg://vetted@db/vetted.
    "DATABASE_URL": None,
    # Echo SQL to the log (debugging only).
    "DATABASE_ECHO": False,
    # Fernet keys for emails and addresses at rest, comma-separated, newest first: the first
    # encrypts, all decrypt, so a key can be rotated in (`vetted keys rotate` re-encrypts).
    "ENCRYPTION_KEYS": None,
    # Key of the HMAC that makes lookup digests (email, address) and avatar seeds. Never
    # rotate it casually: digests made with the old key stop matching.
    "HASH_KEY": None,
    # Celery: the embedded default uses kombu's SQLAlchemy transport on a local SQLite file,
    # so `make run` needs no server. Production: redis://redis:6379/0.
    "CELERY": {
        "broker_url": None,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # A submission waits at most about twice this for a broker that is down; the
        # comment is committed already and the periodic job queues its check later.
        "broker_connection_timeout": 1.0,
        "task_default_queue": "vetted",
        # Periodic jobs are listed in service.periodic_tasks, with intervals from the
        # settings below; entries here are added to them.
        "beat_schedule": {},
    },
    # A comment whose spam check has not finished this many seconds after submission is
    # queued again by the periodic job.
    "SPAM_CHECK_REQUEUE_AFTER": 180,
    # How often (seconds) beat looks for such comments.
    "SPAM_CHECK_REQUEUE_INTERVAL": 60,
    # The classifier's base model: a file written by `vetted spam train --out DIR`
    # (DIR/base.npz). None: the model shipped in service/spam/model/. Sites adapt it to their
    # moderators' feedback; a new base model retrains every site's adaptation.
    "SPAM_MODEL_PATH": None,
    # How often (seconds) beat retrains the models of sites whose feedback changed since their
    # last training. Each spam/ham decision also queues its site's retraining at once; this
    # catches up on any the broker lost.
    "SPAM_RETRAIN_INTERVAL": 300,
    # FLOOD: an author or an address with this many comments on the site in the last
    # SPAM_FLOOD_WINDOW seconds has its next ones held; with twice as many, marked spam.
    "SPAM_FLOOD_MAX": 5,
    "SPAM_FLOOD_WINDOW": 60,
    # REPEAT_POST across articles: the same text by another author on another article of the
    # site within this many seconds (a campaign). Short texts ("Great piece!", "Thanks for the
    # clear report.") repeat innocently, so only texts of SPAM_REPEAT_MIN_LENGTH characters or
    # more count, for this and for an author's own repeats.
    "SPAM_REPEAT_WINDOW": 24 * 3600,
    "SPAM_REPEAT_MIN_LENGTH": 40,
    # Akismet (optional). Without an API key nothing leaves the machine; with one, the worker
    # also sends each comment (text, author, email, address, user agent) to Akismet's
    # comment-check and reports moderators' spam/ham decisions back. The blog URL is the site
    # registered with the key.
    "AKISMET_API_KEY": None,
    "AKISMET_BLOG_URL": None,
    # Akismet's API root; tests point it at a local server that speaks the same protocol.
    "AKISMET_API_URL": "https://rest.akismet.com",
    # Seconds to wait for Akismet before checking without it (the verdict must not wait long).
    "AKISMET_TIMEOUT": 1.0,
    # Rate limits for submissions, per client address and site (flask-limiter syntax).
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_SUBMIT": "5 per minute;50 per day",
    # memory:// is per process: fine for `make run`; production uses redis:// so that every
    # web process counts against the same limit.
    "RATELIMIT_STORAGE_URI": "memory://",
    # How many reverse proxies in front of Vetted set X-Forwarded-For. 0 trusts nobody: the
    # client address is the socket's (Isso's rule: trust forwarded headers only from proxies).
    "TRUSTED_PROXY_HOPS": 0,
    # Largest accepted request body.
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # email-validator's DNS deliverability check. Off by default: it needs the network and
    # adds latency to every submission.
    "EMAIL_CHECK_DELIVERABILITY": False,
    # Thread reads: top-level comments per page (default and maximum).
    "THREAD_PAGE_SIZE": 20,
    "THREAD_PAGE_SIZE_MAX": 100,
    # Public thread responses may be cached by browsers and CDNs for this many seconds; the
    # ETag makes revalidation cheap.
    "THREAD_CACHE_MAX_AGE": 10,
    # Each web process keeps rendered thread pages up to this many bytes, keyed by ETag (so
    # never stale: a page is served only under the ETag of the thread version it shows).
    "THREAD_CACHE_BYTES": 32 * 1024 * 1024,
    # Seconds a web process trusts a thread's version (hence its ETag) once read from the
    # database, so a hot thread costs one query a second per process, not one per reader. A
    # change made through another process shows up in reads within this time, well inside
    # THREAD_CACHE_MAX_AGE, which browsers and CDNs may keep a page anyway; one made through
    # this process shows at once. 0 reads the version on every request.
    "THREAD_VERSION_TTL": 1.0,
    # A submission repeating one its author sent to the same article (and parent) this many
    # seconds ago gets that comment back, not a copy: a double click or a retry after a lost
    # answer. 0 stores every copy (each then held by the REPEAT_POST check).
    "SUBMIT_RESEND_WINDOW": 600,
    # Author tokens let a reader see their own pending comment; they expire after this many
    # seconds (30 days).
    "AUTHOR_TOKEN_MAX_AGE": 30 * 24 * 3600,
    # The moderation queue and the audit log: items per page (default and maximum).
    "MODERATION_PAGE_SIZE": 50,
    "MODERATION_PAGE_SIZE_MAX": 200,
    # The queue's counts per status stop at this number (a count equal to it means "at least"),
    # so its first page costs the same however many comments a site has.
    "MODERATION_COUNT_CAP": 1000,
    # Origins (https://cms.example) whose pages may call the token APIs (review, admin and
    # webhooks) from a browser: a moderation dashboard inside the CMS's admin, say. A JSON list
    # or comma-separated. Empty: no CORS headers, so browsers allow only same-origin pages;
    # servers are unaffected. Tokens travel in the Authorization header, so no cookies are let in.
    "MODERATION_ALLOWED_ORIGINS": [],
    # Most comments one bulk decision may name; they are decided in one transaction.
    "MODERATION_BULK_MAX": 500,
    # The folder of the embedded setup's files (SQLite database and broker, generated keys,
    # beat schedule). Default: instance/ beside the code; a test or a second `make run` sets
    # its own.
    "INSTANCE_PATH": None,
    # Log level of the service's own loggers.
    "LOG_LEVEL": "INFO",
    # Webhooks: plain http endpoint URLs (development only; production needs https).
    "WEBHOOK_ALLOW_HTTP": False,
    # Networks (CIDR) webhooks may reach although they are not public: an on-premises CMS, or
    # 127.0.0.1/32 in tests. Empty: only public addresses, so endpoints cannot probe our network.
    "WEBHOOK_ALLOWLIST": [],
    # Seconds before each delivery attempt, jittered by 10 %: at once, 5 s, 5 min, 30 min, 2 h,
    # 5 h, 10 h, 14 h, 20 h, 24 h (the Standard Webhooks / Svix schedule, about three days).
    "WEBHOOK_RETRY_SCHEDULE": [0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400],
    # An endpoint whose every attempt has failed for this many days is disabled (Svix: 5).
    "WEBHOOK_DISABLE_AFTER_DAYS": 5,
    # How often (seconds) beat queues due webhook retries. Retries further off than this wait
    # in the database, not in the broker, so none outlives the broker's visibility timeout.
    "WEBHOOK_DISPATCH_INTERVAL": 15,
    # A due delivery whose task has not run this many seconds after it was queued (the broker
    # was down or lost it) is queued again by beat. Attempts are leased, so never sent twice.
    "WEBHOOK_REDISPATCH_AFTER": 60,
    # After a secret rotation the old secret keeps signing beside the new one this many seconds
    # (24 h), so the CMS can switch without rejecting a webhook.
    "WEBHOOK_SECRET_GRACE": 24 * 3600,
    # Events whose deliveries have all finished are deleted, with their delivery log, after
    # this many days: the log stays useful for redelivery without keeping comments forever.
    "WEBHOOK_LOG_RETENTION_DAYS": 30,
}
