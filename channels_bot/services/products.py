"""The account's product catalog: create, update, delete, CSV import, search.

Writes take the acting membership (members and above; viewers are refused,
None is an operator or the system). Every write validates the same way
(`product_clean`), so the UI, the API, the admin and the CSV import refuse
the same input with the same messages.

Search (`product_search`) fuses two rankings by reciprocal rank (as knowledge's
retrieval does):

* words: full-text matches on the product's generated search vector (name,
  SKU, description; prefix matching, so "mu" finds "mug"), then substring
  matches for what full text misses: partial words, and Korean words with a
  particle attached ("티셔츠를" still finds the product named "티셔츠");
* meaning: cosine distance between the query's embedding and each product's
  (name and description, default embedding model), within
  CHANNELS_PRODUCT_MAX_DISTANCE, so "something to drink tea from" finds a mug.

Product vectors are filled after commit by the `products_embed` task
(`products_embed` below) whenever a product is created, updated or imported,
and by a beat sweep for anything missed (admin edits, a lost task, a new
default model). Embedding calls are metered (a usage record each) but not
charged: the catalog's index is part of the bot, whose answers are charged,
and a wallet running dry must not leave a catalog unsearchable. An account
with no embedded product (or an embedding model that is down) searches by
words only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import IntegrityError, transaction
from django.db.models import F, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from pgvector.django import CosineDistance

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from channels_bot.models import OrderItem, Product
from channels_bot.models.catalog import EMBEDDING_DIMENSIONS, TEXT_SEARCH_CONFIG

log = logging.getLogger("channels_bot.catalog")

NAME_MAX = 200
SKU_MAX = 64
DESCRIPTION_MAX = 5000
IMAGE_URL_MAX = 1000
PRICE_MAX = Decimal("9999999999.99")  # max_digits 12, 2 places
IMPORT_MAX_ROWS = 5000
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_COLUMNS = ("name", "description", "price", "currency", "sku", "image_url", "is_available")
IMPORT_REQUIRED_COLUMNS = ("name", "price", "currency")
INDEX_FEATURE = "channels_catalog_index"  # usage records of product embeddings
SEARCH_FEATURE = "channels_catalog_search"  # usage records of query embeddings
EMBED_TASK_BATCH = 200  # products per products_embed task (the gateway sends 128 texts per provider call)
SEARCH_POOL = 50  # candidates of each ranking before fusion
RRF_K = 60  # reciprocal rank fusion's constant (Cormack et al.; knowledge's default too)

# Active ISO 4217 codes (2025): a typo such as "USS" is refused, not stored.
ISO_CURRENCIES = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP
    TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG""".split()
)

_TRUE = {"1", "true", "yes", "y", "on", "available", "t"}
_FALSE = {"0", "false", "no", "n", "off", "unavailable", "f"}
_WORD = re.compile(r"[\w]+", re.UNICODE)
# Words that match nearly every description; dropped from the full-text query.
_STOP_WORDS = frozenset(
    "a an and any are at be can do does for from have how i in is it me my of on or please show that the this "
    "to want what which with would you your".split()
)


def _require_editor(actor: Membership | None) -> None:
    if actor is not None and not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Viewers can see the catalog but not change it."))


# --- validation ----------------------------------------------------------------------------


def _price(value: Any) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("A price is required.")
    if isinstance(value, float):
        value = repr(value)
    try:
        price = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("Enter the price as a number, such as 19.90.") from None
    if not price.is_finite():
        raise ValueError("Enter the price as a number, such as 19.90.")
    if price < 0:
        raise ValueError("The price cannot be negative.")
    if price != price.quantize(Decimal("0.01")):
        raise ValueError("Use at most two decimal places.")
    if price > PRICE_MAX:
        raise ValueError(f"The price can be at most {PRICE_MAX}.")
    return price.quantize(Decimal("0.01"))


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise ValueError("A currency is required.")
    if code not in ISO_CURRENCIES:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code; use one such as USD, EUR or KRW.")
    return code


def _available(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text == "":
        return True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("Use true or false.")


def _text(value: Any, *, limit: int, required: bool = False, label: str = "This field") -> str:
    if value is not None and not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"{label} must be text.")
    text = str(value if value is not None else "").strip()
    if required and not text:
        raise ValueError(f"{label} is required.")
    if len(text) > limit:
        raise ValueError(f"At most {limit} characters ({len(text)} given).")
    return text


def _image_url(value: Any) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = _text(value, limit=IMAGE_URL_MAX)
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise ValueError("Enter a full http(s) address of the image.") from None
    return url


_CLEANERS = {
    "name": lambda v: _text(v, limit=NAME_MAX, required=True, label=gettext("A name")),
    "description": lambda v: _text(v, limit=DESCRIPTION_MAX),
    "price": _price,
    "currency": _currency,
    "sku": lambda v: _text(v, limit=SKU_MAX),
    "image_url": _image_url,
    "is_available": _available,
}


def product_clean(data: dict[str, Any], *, partial: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The valid values of `data` and the errors per field. `partial`: only the given
    fields (an update); otherwise name, price and currency are required."""
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(_CLEANERS))
    for name in unknown:
        errors[name] = ["Unknown field."]
    for name, clean in _CLEANERS.items():
        if name not in data:
            if not partial and name in IMPORT_REQUIRED_COLUMNS:
                errors[name] = ["This field is required."]
            continue
        try:
            values[name] = clean(data[name])
        except ValueError as exc:
            errors[name] = [str(exc)]
    return values, errors


def _raise_invalid(errors: dict[str, list[str]]) -> None:
    first = next(iter(errors.values()))[0]
    raise InvalidInput(gettext("The product was not saved: %(first)s") % {"first": first}, fields=errors)


def _sku_taken(account: Account, sku: str, exclude_id=None) -> bool:
    if not sku:
        return False
    found = Product.objects.filter(account=account, sku=sku)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return found.exists()


def _sku_conflict(sku: str) -> Conflict:
    return Conflict(
        gettext("Another product already has the SKU '%(sku)s'.") % {"sku": sku}, code="duplicate_sku",
        fields={"sku": ["Another product of this account has this SKU."]},
    )  # fmt: skip


# --- writes ----------------------------------------------------------------------------------


def product_create(*, account: Account, actor: Membership | None, **data: Any) -> Product:
    """A new product (name, price, currency required; description, sku, image_url, is_available)."""
    _require_editor(actor)
    values, errors = product_clean(data)
    if errors:
        _raise_invalid(errors)
    with account_context(account.id):
        if _sku_taken(account, values.get("sku", "")):
            raise _sku_conflict(values["sku"])
        try:
            with transaction.atomic():
                product = Product.objects.create(account=account, **values)
        except IntegrityError:  # a concurrent create took the SKU
            raise _sku_conflict(values["sku"]) from None
        products_embed_enqueue(account_id=account.id, product_ids=[product.pk])
    return product


def product_update(*, product: Product, actor: Membership | None, **changes: Any) -> Product:
    """Change the given fields only."""
    _require_editor(actor)
    values, errors = product_clean(changes, partial=True)
    if errors:
        _raise_invalid(errors)
    if not values:
        return product
    with account_context(product.account_id):
        if "sku" in values and _sku_taken(product.account, values["sku"], exclude_id=product.pk):
            raise _sku_conflict(values["sku"])
        for name, value in values.items():
            setattr(product, name, value)
        try:
            with transaction.atomic():
                product.save(update_fields=[*values, "updated_at"])
        except IntegrityError:
            raise _sku_conflict(values["sku"]) from None
        product.refresh_from_db(fields=["search_vector"])
        if {"name", "description"} & set(values):
            products_embed_enqueue(account_id=product.account_id, product_ids=[product.pk])
    return product


@dataclass(frozen=True)
class ProductDeletion:
    """What a delete did: removed the row, or (ordered before) made it unavailable."""

    deleted: bool
    product: Product
    message: str


def product_delete(*, product: Product, actor: Membership | None) -> ProductDeletion:
    """Delete a product; one that was ever ordered stays (its orders point at it) but
    is marked unavailable, and the result says so."""
    _require_editor(actor)
    with account_context(product.account_id):
        locked = Product.objects.select_for_update().filter(pk=product.pk).first()
        if locked is None:
            return ProductDeletion(True, product, "The product was already deleted.")
        if OrderItem.objects.filter(product=locked).exists():
            if locked.is_available:
                locked.is_available = False
                locked.save(update_fields=["is_available", "updated_at"])
            return ProductDeletion(
                False, locked,
                f"“{locked.name}” is part of past orders, so it was kept and marked unavailable instead of deleted.",
            )  # fmt: skip
        locked.delete()
    return ProductDeletion(True, product, f"“{product.name}” was deleted.")


# --- CSV import ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    rows: int
    products: list[Product] = field(default_factory=list, repr=False)


def _read_text(file: Any) -> str:
    data = file.read() if hasattr(file, "read") else file
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes | bytearray):
        raise InvalidInput(gettext("Upload a CSV file."), fields={"file": ["Upload a CSV file."]})
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(
            gettext("The file is too large: at most %(IMPORT_MAX_BYTES)s MB.")
            % {"IMPORT_MAX_BYTES": IMPORT_MAX_BYTES // (1024 * 1024)},
            fields={"file": ["The file is too large."]},
        )
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = bytes(data)[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            gettext("The file is not UTF-8 text (line %(line)s). Save it as “CSV UTF-8” and upload it again.")
            % {"line": line},
            fields={"file": ["The file must be UTF-8 encoded."]},
            extra={"errors": [{"line": line, "field": "", "message": "Not UTF-8 text."}]},
        ) from None


def _error_line(error: dict) -> str:
    where = f"{error['field']}: " if error["field"] else ""
    return f"Line {error['line']}: {where}{error['message']}"


def _import_failed(errors: list[dict]) -> InvalidInput:
    n = len(errors)
    return InvalidInput(
        ngettext("The file has %(n)s error; nothing was imported. Fix them and upload it again.",
                 "The file has %(n)s errors; nothing was imported. Fix them and upload it again.", n) % {"n": n},
        fields={"file": [_error_line(e) for e in errors[:50]]},
        extra={"errors": errors},
    )  # fmt: skip


def products_import_csv(*, account: Account, actor: Membership | None, file: Any) -> ImportResult:
    """Create or update products from a CSV file (UTF-8, a BOM is fine), all or nothing.

    Columns: name, price, currency (required) and description, sku, image_url,
    is_available. A row whose SKU the account already has updates that product
    (only the columns present); other rows create products. Any error refuses the
    whole file, naming each line: `InvalidInput.extra["errors"]` is a list of
    {"line", "field", "message"}. At most IMPORT_MAX_ROWS rows.
    """
    _require_editor(actor)
    text = _read_text(file)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise _import_failed([{"line": 1, "field": "", "message": f"Not a readable CSV header ({exc})."}]) from None
    if not header:
        raise _import_failed([{"line": 1, "field": "", "message": "The file is empty: it needs a header row."}])
    reader.fieldnames = header
    errors: list[dict] = []
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    for name in unknown:
        errors.append({"line": 1, "field": name, "message": f"Unknown column; use {', '.join(IMPORT_COLUMNS)}."})
    for name in IMPORT_REQUIRED_COLUMNS:
        if name not in header:
            errors.append({"line": 1, "field": name, "message": "This column is required."})
    if errors:
        raise _import_failed(errors)

    rows: list[tuple[int, dict[str, Any]]] = []
    seen_skus: dict[str, int] = {}
    line = 1
    try:
        for raw in reader:
            line_of_row = line + 1
            line = reader.line_num
            if not any((v or "").strip() for k, v in raw.items() if k is not None):
                continue  # a blank line
            if len(rows) >= IMPORT_MAX_ROWS:
                raise _import_failed(
                    [{"line": line_of_row, "field": "", "message": f"At most {IMPORT_MAX_ROWS} rows per file."}]
                )
            if None in raw:
                errors.append({"line": line_of_row, "field": "", "message": "More values than columns."})
                continue
            data = {k: v for k, v in raw.items() if k in IMPORT_COLUMNS and v is not None}
            values, row_errors = product_clean(data)
            for name, messages in row_errors.items():
                errors.extend({"line": line_of_row, "field": name, "message": m} for m in messages)
            sku = values.get("sku", "")
            if sku:
                if sku in seen_skus:
                    errors.append({
                        "line": line_of_row, "field": "sku",
                        "message": f"The SKU '{sku}' is already on line {seen_skus[sku]}.",
                    })  # fmt: skip
                seen_skus.setdefault(sku, line_of_row)
            if not row_errors:
                rows.append((line_of_row, values))
    except csv.Error as exc:
        errors.append({"line": line + 1, "field": "", "message": f"Not readable as CSV ({exc})."})
    if errors:
        raise _import_failed(errors)

    created = updated = 0
    products: list[Product] = []
    with account_context(account.id):
        existing = {
            p.sku: p
            for p in Product.objects.select_for_update().filter(account=account, sku__in=[s for s in seen_skus if s])
        }
        existing_ids = {p.pk for p in existing.values()}
        for _line, values in rows:
            product = existing.get(values.get("sku", ""))
            if product is None:
                products.append(Product(account=account, **values))
                created += 1
            else:
                for name, value in values.items():
                    setattr(product, name, value)
                products.append(product)
                updated += 1
        try:
            with transaction.atomic():
                Product.objects.bulk_create([p for p in products if p._state.adding], batch_size=500)
                changed = [p for p in products if p.pk in existing_ids]
                now = timezone.now()
                for p in changed:
                    p.updated_at = now
                if changed:
                    Product.objects.bulk_update(
                        changed, [*IMPORT_COLUMNS[:4], "image_url", "is_available", "updated_at"], batch_size=500,
                    )  # fmt: skip
        except IntegrityError:  # a product with one of these SKUs was created meanwhile
            raise Conflict(
                gettext(
                    "Another change to the catalog happened during the import; nothing was imported. "
                    "Upload the file again."
                ),
                code="import_conflict",
            ) from None
        products_embed_enqueue(account_id=account.id, product_ids=[p.pk for p in products])
    return ImportResult(created=created, updated=updated, rows=len(rows), products=products)


# --- meaning: product vectors ------------------------------------------------------------


def embedding_text(name: str, description: str) -> str:
    """What a product's vector is of: its name and description (a SKU carries no meaning)."""
    return f"{name}\n{description}".strip()


def embedding_digest(model: str, name: str, description: str) -> str:
    """sha256 of the model and the text; `_DIGEST_SQL` computes the same in PostgreSQL."""
    return hashlib.sha256(f"{model}\n{name}\n{description}".encode()).hexdigest()


_DIGEST_SQL = (
    "encode(sha256(convert_to(%s || chr(10) || channels_bot_product.name || chr(10) "
    "|| channels_bot_product.description, 'UTF8')), 'hex')"
)


def catalog_embedding_model() -> str | None:
    """The default embedding model's registry name when meaning search can use it:
    enabled and of the vector column's size; None (words only) otherwise."""
    from aiplatform.ai.errors import ModelUnavailable
    from aiplatform.ai.models import AiModel
    from aiplatform.ai.registry import default_model, model_entry

    name = default_model(kind=AiModel.Kind.EMBEDDING)
    try:
        entry = model_entry(name, kind=AiModel.Kind.EMBEDDING)
    except ModelUnavailable:
        log.warning("catalog meaning search is off: the embedding model %r is not available", name)
        return None
    if entry.dimensions != EMBEDDING_DIMENSIONS:
        log.warning("catalog meaning search is off: %r makes %s-dimensional vectors, products store %s",
                    name, entry.dimensions, EMBEDDING_DIMENSIONS)  # fmt: skip
        return None
    return entry.name


def products_embed_enqueue(*, account_id: Any, product_ids: Iterable[Any]) -> None:
    """Embed these products after the current transaction commits (never in the request)."""
    from channels_bot.tasks.catalog import products_embed as task

    ids = [str(pk) for pk in product_ids]
    account = str(account_id)
    for at in range(0, len(ids), EMBED_TASK_BATCH):
        batch = ids[at : at + EMBED_TASK_BATCH]
        transaction.on_commit(lambda batch=batch: task.delay(account_id=account, product_ids=batch))


def products_embed(*, account_id: Any, product_ids: Iterable[Any]) -> int:
    """Fill the vectors of these products of `account_id` that lack one of their
    current text (idempotent: a second run embeds nothing). Returns how many were
    stored. Metered, not charged (see the module's docstring). A product edited
    while its text was being embedded keeps its row as the edit left it; the
    edit's own task embeds the new text. Provider errors propagate (the task
    retries); a model that cannot be used leaves the catalog to word search."""
    from aiplatform.ai import gateway
    from aiplatform.ai.errors import ProviderError
    from aiplatform.errors import ServiceError

    model = catalog_embedding_model()
    if model is None:
        return 0
    ids = [str(pk) for pk in product_ids]
    with account_context(account_id):
        account = Account.objects.filter(pk=account_id).first()
        rows = list(
            Product.objects.filter(account_id=account_id, pk__in=ids).values_list(
                "pk", "name", "description", "embedding_digest"
            )
        )
    todo = [(pk, name, description) for pk, name, description, digest in rows
            if digest != embedding_digest(model, name, description)]  # fmt: skip
    if account is None or not todo:
        return 0
    stored = 0
    for at in range(0, len(todo), gateway.EMBED_BATCH):
        batch = todo[at : at + gateway.EMBED_BATCH]
        texts = [embedding_text(name, description) for _pk, name, description in batch]
        try:
            with account_context(account_id):  # the usage record is the account's; a short transaction
                vectors = gateway.embed(account=account, model=model, texts=texts, feature=INDEX_FEATURE).vectors
        except ProviderError:
            raise
        except ServiceError as exc:  # shut off, or a plan refusal: the sweep tries again later
            log.warning("products of account %s not embedded: %s", account_id, exc.message)
            return stored
        with account_context(account_id), transaction.atomic():
            for (pk, name, description), vector in zip(batch, vectors, strict=True):
                stored += Product.objects.filter(pk=pk, name=name, description=description).update(
                    embedding=vector, embedding_model=model, embedding_digest=embedding_digest(model, name, description)
                )
    log.info("embedded %s of %s products of account %s with %s", stored, len(ids), account_id, model)
    return stored


def products_embedding_stale(*, limit: int = 1000) -> list[tuple[str, list[str]]]:
    """(account id, product ids) whose vector is missing or not of their current
    text and the default model: what the beat sweep enqueues again."""
    from accounts.tenancy.context import rls_bypass

    model = catalog_embedding_model()
    if model is None:
        return []
    with rls_bypass("catalog: find products of every account whose vectors are missing or stale"):
        rows = list(
            Product.objects.alias(current=RawSQL(_DIGEST_SQL, [model], output_field=TextField()))
            .exclude(embedding_digest=F("current"))
            .order_by("account_id", "updated_at")
            .values_list("account_id", "pk")[:limit]
        )
    found: dict[str, list[str]] = {}
    for account_id, pk in rows:
        found.setdefault(str(account_id), []).append(str(pk))
    return list(found.items())


# --- search -----------------------------------------------------------------------------


def _search_words(query: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(query or "")]
    return [w for w in dict.fromkeys(words) if w not in _STOP_WORDS and not w.isdigit()]


def product_search(
    *, account: Account, query: str, limit: int = 10, include_unavailable: bool = False
) -> list[Product]:
    """Products of `account` matching `query` by its words or its meaning, best first
    (available only unless asked). Fused by reciprocal rank: score = sum of
    1 / (RRF_K + rank) over the two rankings; a tie goes to the better word rank."""
    words = _search_words(query)[:12]
    limit = max(0, min(int(limit), 50))
    if not limit or not (query or "").strip():
        return []
    with account_context(account.id):
        base = Product.objects.filter(account=account).defer("embedding")
        if not include_unavailable:
            base = base.filter(is_available=True)
        by_words = _word_ranking(base, query, words) if words else []
        by_meaning = _meaning_ranking(account, base, query)
        products = {p.pk: p for p in [*by_words, *by_meaning]}
    return [products[pk] for pk in _fuse([[p.pk for p in by_words], [p.pk for p in by_meaning]])][:limit]


def _word_ranking(base, query: str, words: list[str]) -> list[Product]:
    """Full-text matches by rank, then substring matches by name."""
    ts = SearchQuery(" | ".join(f"{w}:*" for w in words), search_type="raw", config=TEXT_SEARCH_CONFIG)
    found = list(
        base.filter(search_vector=ts)
        .annotate(rank=SearchRank(F("search_vector"), ts))
        .order_by("-rank", "name", "id")[:SEARCH_POOL]
    )
    if len(found) < SEARCH_POOL:
        # The product's whole name inside the message ("티셔츠를 사고 싶어요" names "티셔츠").
        loose = Q(message__contains=Lower("name"))
        for w in (w for w in words if len(w) >= 2):
            loose |= Q(name__icontains=w) | Q(sku__icontains=w)
        more = (
            base.alias(message=Value((query or "").lower(), output_field=TextField()))
            .filter(loose)
            .exclude(pk__in=[p.pk for p in found])
            .order_by("name", "id")[: SEARCH_POOL - len(found)]
        )
        found.extend(more)
    return found


def _meaning_ranking(account: Account, base, query: str) -> list[Product]:
    """Products within CHANNELS_PRODUCT_MAX_DISTANCE of the query's meaning, nearest
    first. Nothing (and no embedding call) when no product of the account has a
    vector of the default model; words only when the model cannot answer."""
    from aiplatform.ai import gateway
    from aiplatform.errors import ServiceError

    if not _WORD.search(query or "") or settings.CHANNELS_PRODUCT_MAX_DISTANCE <= 0:
        return []
    model = catalog_embedding_model()
    if model is None:
        return []
    embedded = base.filter(embedding_model=model, embedding__isnull=False)
    if not embedded.exists():
        return []
    try:
        with transaction.atomic():  # a failed call must not break the caller's transaction
            vector = gateway.embed(
                account=account, model=model, texts=[query.strip()[:1000]], feature=SEARCH_FEATURE
            ).vectors[0]
    except ServiceError as exc:
        log.warning("catalog meaning search of account %s skipped: %s", account.pk, exc.message)
        return []
    # An exact scan of the account's vectors: a catalog is small, and an approximate
    # index would need iterative scans to survive the account filter (knowledge's ADR 0003).
    return list(
        embedded.annotate(distance=CosineDistance("embedding", vector))
        .filter(distance__lte=settings.CHANNELS_PRODUCT_MAX_DISTANCE)
        .order_by("distance", "name", "id")[:SEARCH_POOL]
    )


def _fuse(rankings: list[list[Any]]) -> list[Any]:
    """Ids by reciprocal rank fusion of `rankings` (the first is the tie-breaker)."""
    scores: dict[Any, float] = {}
    first: dict[Any, int] = {}
    for index, ranking in enumerate(rankings):
        for rank, pk in enumerate(ranking, start=1):
            scores[pk] = scores.get(pk, 0.0) + 1.0 / (RRF_K + rank)
            if index == 0:
                first[pk] = rank
    order = {pk: n for n, pk in enumerate(dict.fromkeys(pk for ranking in rankings for pk in ranking))}
    return sorted(scores, key=lambda pk: (-scores[pk], first.get(pk, len(first) + 1), order[pk]))
