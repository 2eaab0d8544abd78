"""Writes of rating rounds: a PM asks members to rate features on the product's scoring inputs,
the raters rate (blind: a rater's sheet shows their own values only), and the PM accepts the
consensus into the features through ``features_write``, the one way a feature changes.

A rater's ratings are final once submitted: then they see the others'. Closing a round stops
rating; reopening it lets those who have not submitted carry on. Raters are told by email once,
after the round is created (``rating_invitation_send``, from a task).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from config.dispatch import enqueue_many_on_commit
from config.mail import message_id
from roadmap.models import Feature, Product, Rating, RatingRound, RatingRoundRater
from roadmap.planning import rating as scales
from roadmap.planning.selectors.rating import round_inputs
from roadmap.planning.services.features import FeaturesWritten, FeatureWrite, features_write


@transaction.atomic
def round_create(
    *,
    product: Product,
    name: str,
    features: Iterable[Feature],
    raters: Iterable,
    created_by=None,
) -> RatingRound:
    """Ask ``raters`` (members of the product's workspace) to rate ``features`` (the product's)
    on the product's scoring inputs; each rater is emailed after commit."""
    features = list({f.pk: f for f in features}.values())
    raters = list({u.pk: u for u in raters}.values())
    errors: dict[str, str] = {}
    if not features:
        errors["features"] = "Choose at least one feature to rate."
    elif len(features) > scales.MAX_FEATURES:
        errors["features"] = f"Choose at most {scales.MAX_FEATURES} features for one round."
    elif any(f.product_id != product.pk for f in features):
        errors["features"] = "Some features belong to another product."
    if not raters:
        errors["raters"] = "Choose at least one rater."
    elif len(raters) > scales.MAX_RATERS:
        errors["raters"] = f"Choose at most {scales.MAX_RATERS} raters for one round."
    else:
        members = set(
            Membership.objects.filter(
                workspace_id=product.workspace_id, user__in=raters
            ).values_list("user_id", flat=True)
        )
        if any(u.pk not in members for u in raters):
            errors["raters"] = "Raters must be members of the workspace."
    if not round_inputs(product=product):
        errors[NON_FIELD_ERRORS] = (
            "This product's scoring has no inputs to rate: choose a framework or add drivers."
        )
    rating_round = RatingRound(product=product, name=" ".join(name.split()), created_by=created_by)
    try:
        rating_round.full_clean(exclude=["product", "created_by"])
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if "name" not in errors and product.rating_rounds.filter(name=rating_round.name).exists():
        errors["name"] = f"There is already a rating round named “{rating_round.name}”."
    if errors:
        raise ValidationError(errors)
    rating_round.save()
    rating_round.features.set(features)
    seats = RatingRoundRater.objects.bulk_create(
        [RatingRoundRater(round=rating_round, user=u) for u in raters]
    )
    enqueue_many_on_commit("roadmap.tasks.send_rating_invitation", [(s.pk,) for s in seats])
    return rating_round


def _seat(rating_round: RatingRound, rater) -> RatingRoundRater:
    """The rater's seat, locked; ValidationError if they are not a rater of the round."""
    seat = (
        RatingRoundRater.objects.select_for_update()
        .filter(round=rating_round, user_id=rater.pk)
        .first()
    )
    if seat is None:
        raise ValidationError("You are not a rater of this round.")
    return seat


@transaction.atomic
def ratings_save(
    *,
    rating_round: RatingRound,
    rater,
    values: Mapping[str, str],
    submit: bool = False,
) -> int:
    """Save a rater's values (``values`` by field name, ``rating.field_name``; a blank one
    is "no opinion") as a draft, or with ``submit`` for good. All or nothing; returns how many
    values the rater has. Refused once the round is closed or the rater has submitted."""
    seat = _seat(rating_round, rater)
    current = RatingRound.objects.select_for_update().get(pk=rating_round.pk)
    if current.closed_at is not None:
        raise ValidationError("This round is closed: ratings can no longer change.")
    if seat.submitted_at is not None:
        raise ValidationError("You have submitted your ratings already.")
    inputs = round_inputs(product=rating_round.product)
    feature_ids = list(rating_round.features.values_list("pk", flat=True))
    errors: dict[str, str] = {}
    given: dict[tuple[int, str], Decimal] = {}
    for feature_id in feature_ids:
        for item in inputs:
            name = scales.field_name(feature_id, item.key)
            raw = (values.get(name) or "").strip()
            if not raw:
                continue
            try:
                given[(feature_id, item.key)] = item.scale.clean(raw)
            except ValueError as error:
                errors[name] = str(error)
    if submit and not given and not errors:
        errors[NON_FIELD_ERRORS] = "Rate at least one input before submitting."
    if errors:
        raise ValidationError(errors)
    # A sheet is at most MAX_FEATURES × inputs values: replaced whole, in two statements.
    Rating.objects.filter(round=rating_round, rater_id=rater.pk).delete()
    Rating.objects.bulk_create(
        Rating(round=rating_round, rater_id=rater.pk, feature_id=f, input_key=k, value=v)
        for (f, k), v in given.items()
    )
    if submit:
        seat.submitted_at = timezone.now()
        seat.save(update_fields=["submitted_at"])
    return len(given)


@transaction.atomic
def round_close(*, rating_round: RatingRound) -> RatingRound:
    """Stop rating: raters who have not submitted can no longer change their values."""
    RatingRound.objects.filter(pk=rating_round.pk, closed_at__isnull=True).update(
        closed_at=timezone.now(), updated_at=timezone.now()
    )
    rating_round.refresh_from_db(fields=["closed_at", "updated_at"])
    return rating_round


@transaction.atomic
def round_reopen(*, rating_round: RatingRound) -> RatingRound:
    """Let raters who have not submitted rate again (submitted ratings stay final); a closed
    round reopened emails each of them again, after commit (once per reopening)."""
    reopened = RatingRound.objects.filter(pk=rating_round.pk, closed_at__isnull=False).update(
        closed_at=None, updated_at=timezone.now()
    )
    rating_round.refresh_from_db(fields=["closed_at", "updated_at"])
    if reopened:
        waiting = RatingRoundRater.objects.filter(round=rating_round, submitted_at__isnull=True)
        seats = list(waiting.values_list("pk", flat=True))
        waiting.update(notified_at=None)
        enqueue_many_on_commit("roadmap.tasks.send_rating_invitation", [(pk,) for pk in seats])
    return rating_round


def round_reason(rating_round: RatingRound) -> str:
    """What the history of a feature written by the round says of the change."""
    return f"From rating round “{rating_round.name}”"


@transaction.atomic
def round_accept(
    *,
    rating_round: RatingRound,
    values: Mapping[int, Mapping[str, Decimal | str]],
    actor=None,
) -> FeaturesWritten:
    """Write accepted values (``values[feature_id][input key]``, the consensus or the PM's
    edit) into the round's features through ``features_write``, their history saying they came
    from the round. Errors by field name (``rating.field_name``); all or nothing."""
    product = rating_round.product
    by_key = {item.key: item for item in round_inputs(product=product)}
    in_round = set(rating_round.features.values_list("pk", flat=True))
    errors: dict[str, str] = {}
    writes: list[FeatureWrite] = []
    for feature_id, accepted in values.items():
        if feature_id not in in_round:
            errors[NON_FIELD_ERRORS] = "Some features are not in this round."
            continue
        fields: dict[str, Decimal | int] = {}
        driver_scores: dict[int, int | None] = {}
        for key, raw in accepted.items():
            item = by_key.get(key)
            if item is None:
                errors[NON_FIELD_ERRORS] = "Some inputs are no longer the product's: reload."
                continue
            try:
                value = item.scale.clean(raw)
            except ValueError as error:
                errors[scales.field_name(feature_id, key)] = str(error)
                continue
            if item.driver_id is not None:
                driver_scores[item.driver_id] = int(value)
            elif item.scale.step == scales.WHOLE and not item.scale.choices:
                fields[key] = int(value)
            else:
                fields[key] = value
        writes.append(
            FeatureWrite(
                fields=fields,
                feature=Feature(pk=feature_id),
                driver_scores=driver_scores or None,
                expected_version=None,
            )
        )
    if not writes and not errors:
        errors[NON_FIELD_ERRORS] = "Nothing to accept: no feature has a rated value."
    if errors:
        raise ValidationError(errors)
    return features_write(
        product=product, writes=writes, actor=actor, reason=round_reason(rating_round)
    )


def rating_invitation_message(*, seat: RatingRoundRater) -> EmailMultiAlternatives:
    """The email asking a rater to rate a round."""
    rating_round = seat.round
    url = settings.SITE_URL + reverse(
        "roadmap:rating_sheet", args=[rating_round.product.slug, rating_round.pk]
    )
    context = {
        "round": rating_round,
        "product": rating_round.product,
        "asked_by": rating_round.created_by.name if rating_round.created_by else "A colleague",
        "features": rating_round.features.count(),
        "url": url,
        "link": url,
    }
    subject = f"Rate {rating_round.product.name}'s features: {rating_round.name}"
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_to_string("emails/rating_invitation.txt", context),
        to=[seat.user.email],
        headers={
            "Message-ID": message_id(
                key=f"rating-invitation-{seat.pk}-{rating_round.created_at.isoformat()}"
            )
        },
    )
    html = render_to_string("emails/rating_invitation.html", context)
    message.attach_alternative(html, "text/html")
    return message


def rating_invitation_send(*, seat_id: int) -> str:
    """Email a rater that a round awaits them, once (the seat is locked while sending, so a task
    run twice sends once); nothing for a seat gone, a closed round or one already submitted.
    A failure is raised, for the task to retry."""
    with transaction.atomic():
        seat = (
            RatingRoundRater.objects.select_for_update(of=("self",))
            .select_related("round__product", "round__created_by", "user")
            .filter(pk=seat_id)
            .first()
        )
        if seat is None:
            return "gone"
        if seat.notified_at is not None:
            return "sent"
        if seat.round.closed_at is not None or seat.submitted_at is not None:
            return "skipped"
        rating_invitation_message(seat=seat).send()
        seat.notified_at = timezone.now()
        seat.save(update_fields=["notified_at"])
        return "sent"
