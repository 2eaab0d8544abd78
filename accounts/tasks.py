"""Celery tasks of accounts: thin adapters over accounts.services. They take ids, never objects."""

from celery import shared_task

from accounts import services


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3)
def send_password_reset(self, user_id: int) -> None:
    """Email a password reset link; a mail server failure is retried with backoff."""
    try:
        services.send_password_reset_email(user_id=user_id)
    except OSError as exc:  # SMTP errors are OSErrors too
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
