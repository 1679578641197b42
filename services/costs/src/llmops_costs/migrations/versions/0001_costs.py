"""The cost ledger, hourly rollup, budgets, prices, anomalies and outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DIMENSIONS = ("app", "user", "model", "provider", "prompt", "prompt_version")
COUNTS = (
    "calls",
    "priced_calls",
    "estimated_calls",
    "price_missing_calls",
    "usage_missing_calls",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "reasoning_tokens",
)
TOKENS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_1h_input_tokens",
    "reasoning_tokens",
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Exact money: NUMERIC on PostgreSQL; decimal text on SQLite, whose NUMERIC is a float.
    money = sa.Text if sqlite else sa.Numeric
    pk = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    when = sa.DateTime(timezone=True)

    op.create_table(
        "cost_calls",
        sa.Column("pk", pk, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("time", when, nullable=False),
        sa.Column("priced_at", when),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("request_model", sa.String(200), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("app", sa.String(200)),
        sa.Column("user", sa.String(200)),
        sa.Column("session", sa.String(200)),
        sa.Column("prompt_name", sa.String(200)),
        sa.Column("prompt_version", sa.String(64)),
        sa.Column("prompt_label", sa.String(64)),
        sa.Column("service_tier", sa.String(64)),
        sa.Column("correlation_id", sa.String(128)),
        *(sa.Column(name, sa.BigInteger) for name in TOKENS),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cost", money()),
        sa.Column("provided_cost", money()),
        sa.Column("breakdown", sa.Text),
        sa.Column("price_table_version", sa.String(200)),
        sa.Column("price_key", sa.String(300)),
        sa.Column("tier", sa.String(100)),
        sa.Column("estimated", sa.Boolean, nullable=False),
        sa.Column("tokenizer", sa.String(64)),
        sa.Column("missing_reason", sa.String(32)),
        sa.Column("missing_detail", sa.Text),
        sa.Column("repriced", sa.Boolean, nullable=False),
        # Event ids are chosen by publishers: unique per tenant, so one tenant cannot shadow
        # another's call by reusing its id.
        sa.UniqueConstraint("tenant", "event_id", name="uq_cost_calls_tenant_event"),
    )
    # Budget recomputation sums a tenant's calls in a window; re-pricing scans waiting calls.
    op.create_index("ix_cost_calls_tenant_time", "cost_calls", ["tenant", "time"])
    op.create_index("ix_cost_calls_state_pk", "cost_calls", ["state", "pk"])

    op.create_table(
        "cost_hourly",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("hour", when, nullable=False),
        *(sa.Column(name, sa.String(200), nullable=False) for name in DIMENSIONS),
        sa.Column("day", when, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in COUNTS),
        sa.Column("cost", money(), nullable=False),
        sa.Column("provided_cost", money(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "hour", *DIMENSIONS, name="pk_cost_hourly"),
    )
    op.create_table(
        "cost_budgets",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("budget_id", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "budget_id", name="pk_cost_budgets"),
    )
    op.create_table(
        "cost_budget_spend",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("budget_id", sa.String(64), nullable=False),
        sa.Column("window_start", when, nullable=False),
        sa.Column("spent", money(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "budget_id", "window_start", name="pk_cost_budget_spend"),
    )
    op.create_table(
        "cost_budget_alerts",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("budget_id", sa.String(64), nullable=False),
        sa.Column("window_start", when, nullable=False),
        sa.Column("alert", sa.String(64), nullable=False),
        sa.Column("fired_at", when, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "budget_id", "window_start", "alert", name="pk_cost_budget_alerts"
        ),
    )
    op.create_table(
        "cost_anomalies",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("scope_value", sa.String(200), nullable=False),
        sa.Column("period_start", when, nullable=False),
        sa.Column("fired_at", when, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "scope", "scope_value", "period_start", name="pk_cost_anomalies"
        ),
    )
    op.create_table(
        "cost_outbox",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("created_at", when, nullable=False, index=True),
    )
    op.create_table(
        "cost_price_loads",
        sa.Column("id", pk, primary_key=True, autoincrement=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("loaded_at", when, nullable=False),
        sa.Column("version", sa.String(200)),
        sa.Column("table_doc", sa.Text),
        sa.Column("overrides", sa.Integer, nullable=False),
    )
    op.create_table(
        "cost_price_overrides",
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("effective_from", sa.String(40), nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("load_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant", "provider", "model", "effective_from", name="pk_cost_price_overrides"
        ),
    )


def downgrade() -> None:
    for table in (
        "cost_price_overrides",
        "cost_price_loads",
        "cost_outbox",
        "cost_anomalies",
        "cost_budget_alerts",
        "cost_budget_spend",
        "cost_budgets",
        "cost_hourly",
        "cost_calls",
    ):
        op.drop_table(table)
