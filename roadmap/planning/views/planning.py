"""A product's roadmap board (now / next / later by lane) and timeline (items across months).

Every change is a plain form POST that redirects, so the pages work without JavaScript; htmx
requests (and the drag and drop of static/js/board.js and timeline.js) get the board or timeline
fragment back instead, re-rendered from the server's state. An invalid change comes back with the
error next to its field (status 200 to htmx, which swaps only successes; 400 otherwise).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import ModelChoiceIterator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from roadmap.access import product_for
from roadmap.forms import LongSelect, ServiceErrors, TextAreaField, submit
from roadmap.models import Feature, Horizon, Lane, Product, RoadmapItem, Visibility
from roadmap.planning.selectors import planning as selectors
from roadmap.planning.services import roadmap as records

BOARD_PAGE = "roadmap/board.html"
BOARD_FRAGMENT = "roadmap/planning/_board.html"
MOVE_FORM = "roadmap/planning/_move_form.html"
MOVE_PAGE = "roadmap/planning/move.html"
TEXT_FORM = "roadmap/planning/_text_form.html"
TEXT_PAGE = "roadmap/planning/text.html"
CARD_FRAGMENT = "roadmap/planning/_card.html"
CELL_PAGE = "roadmap/planning/cell.html"
CELL_FRAGMENT = "roadmap/planning/_cell_more.html"
TIMELINE_PAGE = "roadmap/timeline.html"
TIMELINE_FRAGMENT = "roadmap/planning/_timeline.html"
# The event board.js and timeline.js read to announce a change to screen readers.
NOTICE_EVENT = "planning:notice"


# --- Forms: parse the request; the rules themselves are the model's and the services' ---------


class LaneField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Lane.objects.none(),
            required=False,
            empty_label=selectors.NO_LANE,
            error_messages={"invalid_choice": "Pick a lane of this product."},
            **kwargs,
        )


class ProductForm(ServiceErrors, forms.Form):
    """A form whose lane (and feature) choices are the product's own."""

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["lane"].queryset = Lane.objects.filter(product=product).order_by(
            "position", "name", "pk"
        )


def lanes_offered(form: forms.Form, lanes: list[Lane]) -> None:
    """Give the form's lane select the product's lanes already read (the board has them), in
    the same order and words as its queryset would: a query less per form shown."""
    field = form.fields["lane"]
    field.choices = [
        ("", field.empty_label),
        *((lane.pk, field.label_from_instance(lane)) for lane in lanes),
    ]


class ItemMoveForm(ProductForm):
    horizon = forms.ChoiceField(choices=Horizon.choices)
    lane = LaneField()
    position = forms.IntegerField(min_value=1, label="Position", help_text="1 is the top.")


# The picker lists this many features, the best ranked: a product of 100k features not on the
# roadmap would make a page of megabytes. Any feature of the product is accepted all the same.
PICKER_OPTIONS = 200


class _RankedTitles(ModelChoiceIterator):
    """The picker's options from (pk, rank, title) rows: one query, no model instances, at most
    PICKER_OPTIONS of them (then an empty option saying so)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list("pk", "rank", "title")[: PICKER_OPTIONS + 1]
        for n, (pk, rank, title) in enumerate(rows):
            if n == PICKER_OPTIONS:
                yield ("", f"… only the {PICKER_OPTIONS} best-ranked features are listed")
                break
            yield (pk, f"#{rank} · {title}" if rank else title)


class FeaturePickerField(forms.ModelChoiceField):
    iterator = _RankedTitles
    widget = LongSelect


class FeatureAddForm(ProductForm):
    feature = FeaturePickerField(
        queryset=Feature.objects.none(),
        empty_label="Pick a feature…",
        error_messages={
            "required": "Pick a feature to add.",
            "invalid_choice": "Pick a feature of this product that is not on the roadmap yet.",
        },
    )
    horizon = forms.ChoiceField(choices=Horizon.choices, initial=Horizon.LATER)
    lane = LaneField()

    def __init__(self, *args, product: Product, **kwargs):
        # Both add forms share a page: their fields need ids of their own.
        super().__init__(*args, product=product, auto_id="add-feature-%s", **kwargs)
        self.fields["feature"].queryset = selectors.unplaced_features(product=product)

    @cached_property
    def has_features(self) -> bool:
        """Whether any feature is left to add: the picker's options, read once (one query for
        both the question and the list)."""
        field = self.fields["feature"]
        # iter(): list() of the iterator itself would ask its len(), a COUNT of every feature.
        field.choices = list(iter(field.choices))
        # The first option is the empty one ("Pick a feature…"): a feature follows it, or none.
        return len(field.choices) > 1


class ThemeAddForm(ProductForm):
    title = forms.CharField(
        required=False,
        label="Theme (without a feature)",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Faster onboarding"}),
    )
    horizon = forms.ChoiceField(choices=Horizon.choices, initial=Horizon.LATER)
    lane = LaneField()

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, product=product, auto_id="add-theme-%s", **kwargs)


class VisibilityForm(ServiceErrors, forms.Form):
    visibility = forms.ChoiceField(choices=Visibility.choices)


class ItemTextForm(ServiceErrors, forms.Form):
    """What outsiders read of an item: its customer-facing title and description.

    The bounds are the model's (``full_clean`` in the service); ``maxlength`` only echoes them.
    """

    external_title = forms.CharField(
        required=False,
        label="Customer-facing title",
        help_text="What share links, feeds and digests show. Empty: the internal title.",
        widget=forms.TextInput(
            attrs={"maxlength": RoadmapItem._meta.get_field("external_title").max_length}
        ),
    )
    external_description = TextAreaField(
        required=False,
        label="Customer-facing description",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, item: RoadmapItem, **kwargs):
        # A board shows many of these forms: each item's fields need ids of their own.
        kwargs.setdefault(
            "initial",
            {
                "external_title": item.external_title,
                "external_description": item.external_description,
            },
        )
        super().__init__(*args, auto_id=f"text-{item.pk}-%s", **kwargs)

    def focus_first_error(self) -> None:
        """Give the first field in error ``autofocus``: htmx focuses it once swapped in."""
        for name, field in self.fields.items():
            if name in self.errors:
                field.widget.attrs["autofocus"] = True
                return


class ItemDatesForm(ServiceErrors, forms.Form):
    start_date = forms.DateField(required=False, label="Start")
    end_date = forms.DateField(required=False, label="End")


def _item(product: Product, pk: int) -> RoadmapItem:
    """An item of this product, or 404 (an item of another product is not found)."""
    return get_object_or_404(selectors.product_items(product=product), pk=pk)


def _notice(response: HttpResponse, text: str) -> HttpResponse:
    return trigger_client_event(response, NOTICE_EVENT, {"text": text})


def _where(item: RoadmapItem) -> str:
    lane = item.lane.name if item.lane_id else selectors.NO_LANE.lower()
    return f"{item.get_horizon_display()} · {lane}"


# --- Board ---------------------------------------------------------------------------------------


def _board(
    request: HttpRequest,
    product: Product,
    *,
    status: int = 200,
    page: bool | None = None,
    **extra,
) -> HttpResponse:
    """The board page, or its fragment for htmx, with fresh add forms unless given others."""
    board = selectors.product_board(product=product)
    context = {"product": product, "board": board, **extra}
    if product.can_edit:
        context.setdefault("feature_form", FeatureAddForm(product=product))
        context.setdefault("theme_form", ThemeAddForm(product=product))
        lanes_offered(context["feature_form"], board.lanes)
        lanes_offered(context["theme_form"], board.lanes)
    if page is None:
        page = not request.htmx or request.htmx.history_restore_request
    return render(request, BOARD_PAGE if page else BOARD_FRAGMENT, context, status=status)


def _board_done(request: HttpRequest, product: Product, text: str) -> HttpResponse:
    """After a change: the fresh fragment (htmx) or a redirect to the board with a message."""
    if request.htmx:
        return _notice(_board(request, product), text)
    messages.success(request, text)
    return redirect("roadmap:board", slug=product.slug)


def _board_invalid(request: HttpRequest, product: Product, **forms_) -> HttpResponse:
    return _board(request, product, status=200 if request.htmx else 400, **forms_)


@login_required
@vary_on_headers("HX-Request")
def board(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's roadmap items in now / next / later columns, a row per lane."""
    product = product_for(request, slug)
    return _board(request, product)


class CellForm(forms.Form):
    """Which part of a board cell to show: its horizon, lane (none: "No lane") and first card."""

    horizon = forms.ChoiceField(choices=Horizon.choices)
    lane = LaneField()
    start = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lane"].queryset = Lane.objects.filter(product=product)


@login_required
@vary_on_headers("HX-Request")
def board_cell(request: HttpRequest, slug: str) -> HttpResponse:
    """More cards of one board cell (its "N more"): for htmx, the next cards to append to the
    cell and the cell's next "more" link; without JavaScript, a page of that cell."""
    product = product_for(request, slug)
    form = CellForm(request.GET, product=product)
    if not form.is_valid():
        raise Http404("No such cell on this board.")
    cell = selectors.board_cell(
        product=product,
        horizon=form.cleaned_data["horizon"],
        lane=form.cleaned_data["lane"],
        start=form.cleaned_data["start"] or 0,
    )
    context = {"product": product, "cell": cell, "lanes": selectors.product_lanes(product=product)}
    return render(request, CELL_FRAGMENT if request.htmx else CELL_PAGE, context)


def _menu_form(request: HttpRequest, fragment: str, page: str, context: dict) -> HttpResponse:
    """A card menu's form: the fragment for htmx, else a page of its own (no JavaScript)."""
    if request.htmx:
        return render(request, fragment, context)
    return render(request, page, {**context, "standalone": True})


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def board_item_move(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Move an item into a column and lane at a position within that lane (1 = top).

    GET is the form: for a card's "Move to" menu (htmx), or a page of its own without JavaScript.
    """
    product = product_for(request, slug, edit=True)
    item = _item(product, pk)
    if request.method == "GET":
        context = {
            "product": product,
            "item": item,
            "title": item.display_title,
            "lanes": selectors.product_lanes(product=product),
            "index": selectors.item_cell_index(item=item) + 1,
            "move_url": request.path,
        }
        return _menu_form(request, MOVE_FORM, MOVE_PAGE, context)
    form = ItemMoveForm(request.POST, product=product)
    moved = submit(
        form,
        lambda: records.roadmap_item_place(
            item=item,
            horizon=form.cleaned_data["horizon"],
            lane=form.cleaned_data["lane"],
            index=form.cleaned_data["position"] - 1,
            actor=request.user,
        ),
    )
    if moved is None:
        return _board_invalid(request, product, move_form=form, failed_item_id=item.pk)
    item = _item(product, pk)
    position = form.cleaned_data["position"]
    return _board_done(
        request, product, f"Moved “{item.display_title}” to {_where(item)}, position {position}."
    )


@login_required
@require_POST
def board_item_visibility(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Make an item internal or external; htmx gets the item's card back."""
    product = product_for(request, slug, edit=True)
    item = _item(product, pk)
    form = VisibilityForm(request.POST)
    saved = submit(
        form,
        lambda: records.roadmap_item_save(
            product=product, item=item, data=dict(form.cleaned_data), actor=request.user
        ),
    )
    if saved is None:
        # Only a forged request gets here: the buttons send a known visibility.
        text = "; ".join(e for errors in form.errors.values() for e in errors)
        if request.htmx:
            return _notice(HttpResponse(status=204), f"Not changed: {text}")
        messages.error(request, f"“{item.display_title}” was not changed: {text}")
        return redirect("roadmap:board", slug=product.slug)
    item = _item(product, pk)
    text = (
        f"“{item.display_title}” is now external: share links may show it."
        if item.visibility == Visibility.EXTERNAL
        else f"“{item.display_title}” is now internal: only members see it."
    )
    if request.htmx:
        context = {"product": product, "item": item}
        return _notice(render(request, CARD_FRAGMENT, context), text)
    messages.success(request, text)
    return redirect(reverse("roadmap:board", kwargs={"slug": product.slug}) + f"#item-{item.pk}")


# Where a customer-facing text form was opened: a board card, or a feature's page.
TEXT_ORIGINS = ("board", "feature")


def _text_context(product: Product, item: RoadmapItem, form: ItemTextForm, origin: str) -> dict:
    return {
        "product": product,
        "item": item,
        "text_form": form,
        "text_origin": origin,
        "text_open": item.pk,
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def board_item_text(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """What outsiders read of an item (its customer-facing title and description): read it
    (members; viewers read only) or change it (editors, through ``roadmap_item_save``).

    GET is the form: for a card's "Customer-facing text" menu (htmx), or a page of its own
    without JavaScript. A POST says where it came from (``origin``: the board or the feature
    page): htmx gets that card or that form back, with the errors next to their fields; without
    JavaScript, a redirect back there, or this page with the errors (400).
    """
    product = product_for(request, slug, edit=request.method == "POST")
    item = _item(product, pk)
    origin = request.POST.get("origin") or request.GET.get("origin")
    origin = origin if origin in TEXT_ORIGINS and item.feature_id else "board"
    if request.method == "GET":
        context = _text_context(product, item, ItemTextForm(item=item), origin)
        return _menu_form(request, TEXT_FORM, TEXT_PAGE, context)
    form = ItemTextForm(request.POST, item=item)
    saved = submit(
        form,
        lambda: records.roadmap_item_save(
            product=product, item=item, data=dict(form.cleaned_data), actor=request.user
        ),
    )
    if saved is None:
        item = _item(product, pk)  # as stored: the refused values are only on the form
        form.focus_first_error()
        context = _text_context(product, item, form, origin)
        if not request.htmx:
            return render(request, TEXT_PAGE, {**context, "standalone": True}, status=400)
        return render(request, CARD_FRAGMENT if origin == "board" else TEXT_FORM, context)
    item = _item(product, pk)
    text = f"Saved what customers read of “{item.display_title}”: “{item.public_title}”."
    if not request.htmx:
        messages.success(request, text)
        if origin == "feature":
            return redirect(
                reverse("roadmap:feature", kwargs={"pk": item.feature_id}) + "#item-text"
            )
        return redirect(
            reverse("roadmap:board", kwargs={"slug": product.slug}) + f"#item-{item.pk}"
        )
    context = {**_text_context(product, item, ItemTextForm(item=item), origin), "text_saved": text}
    return _notice(
        render(request, CARD_FRAGMENT if origin == "board" else TEXT_FORM, context), text
    )


@login_required
@require_POST
def board_item_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Take an item off the roadmap (its feature stays), once confirmed.

    Without JavaScript, the first POST shows the question on the board page; htmx asks in a
    dialog (data-hx-confirm) and sends the confirmation with the request.
    """
    product = product_for(request, slug, edit=True)
    item = _item(product, pk)
    if request.POST.get("confirm") != "yes":
        return _board(request, product, page=True, confirm_remove=item)
    title = item.display_title
    records.roadmap_item_delete(item=item, actor=request.user)
    return _board_done(request, product, f"Took “{title}” off the roadmap.")


def _board_add(request: HttpRequest, form: FeatureAddForm | ThemeAddForm, name: str, done: str):
    """Place a new item from an add form and say ``done`` (formatted with ``item`` and
    ``where``); a refused form comes back on the board as ``name``, with its errors."""
    product = form.product
    item = submit(
        form,
        lambda: records.roadmap_item_save(
            product=product, data=dict(form.cleaned_data), actor=request.user
        ),
    )
    if item is None:
        return _board_invalid(request, product, **{name: form})
    return _board_done(request, product, done.format(item=item, where=_where(item)))


@login_required
@require_POST
def board_feature_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Place one of the product's features on the roadmap, at the end of a column."""
    form = FeatureAddForm(request.POST, product=product_for(request, slug, edit=True))
    return _board_add(request, form, "feature_form", "Added “{item.display_title}” to {where}.")


@login_required
@require_POST
def board_theme_add(request: HttpRequest, slug: str) -> HttpResponse:
    """Place a standalone theme (a title, no feature) on the roadmap, at the end of a column."""
    form = ThemeAddForm(request.POST, product=product_for(request, slug, edit=True))
    return _board_add(request, form, "theme_form", "Added the theme “{item.title}” to {where}.")


# --- Timeline ------------------------------------------------------------------------------------


def _timeline(
    request: HttpRequest, product: Product, *, status: int = 200, **extra
) -> HttpResponse:
    context = {
        "product": product,
        "timeline": selectors.product_timeline(product=product, today=timezone.localdate()),
        **extra,
    }
    page = not request.htmx or request.htmx.history_restore_request
    return render(request, TIMELINE_PAGE if page else TIMELINE_FRAGMENT, context, status=status)


@login_required
@vary_on_headers("HX-Request")
def timeline(request: HttpRequest, slug: str) -> HttpResponse:
    """The product's dated items as bars across months by lane, with releases and today."""
    product = product_for(request, slug)
    return _timeline(request, product)


@login_required
@require_POST
def timeline_item_dates(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Set (or clear) an item's start and end dates."""
    product = product_for(request, slug, edit=True)
    item = _item(product, pk)
    form = ItemDatesForm(request.POST)
    saved = submit(
        form,
        lambda: records.roadmap_item_save(
            product=product, item=item, data=dict(form.cleaned_data), actor=request.user
        ),
    )
    if saved is None:
        return _timeline(
            request,
            product,
            status=200 if request.htmx else 400,
            dates_form=form,
            failed_item_id=item.pk,
        )
    item = _item(product, pk)
    text = f"Saved the dates of “{item.display_title}”: {_dates(item)}."
    if request.htmx:
        return _notice(_timeline(request, product), text)
    messages.success(request, text)
    return redirect("roadmap:timeline", slug=product.slug)


def _dates(item: RoadmapItem) -> str:
    def day(value) -> str:
        return f"{value.day} {value:%b %Y}"

    if item.start_date and item.end_date:
        return f"{day(item.start_date)} to {day(item.end_date)}"
    if item.start_date:
        return f"from {day(item.start_date)}"
    if item.end_date:
        return f"due {day(item.end_date)}"
    return "no dates"
