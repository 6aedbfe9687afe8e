# ruff: noqa: S608 - the functions and triggers are built from this module's constants
"""monitoring speed at a year of Hanoi: the daily summary kept by triggers, the period indexes

``monitoring_daily``: per local day, service point, agent organisation and procedure level, the dossiers
received, the resolutions (early, on time, late, a histogram of working days) and the ratings of the day.
On PostgreSQL, triggers keep it in the same transaction as every change of ``dossiers`` (registration,
transfer to another point, deletion), ``dossier_resolutions`` and ``feedback``; a change of a procedure's
level moves its dossiers' counts to the new level, set-based; a TRUNCATE recomputes it all
(``monitoring_daily_rebuild()``, also run here to fill it from the rows already stored). The embedded SQLite keeps the table empty and computes from the raw rows.

Indexes: the branch queues' two end with the id (a page's ids from the index alone); ``feedback
(created_at)`` and ``payments (paid_at)``, covering what the period's SIPAS criteria and payments by method
read; the open dossiers' deadline index covers their organisation and procedure
(overdue now by organisation or level without reading the table).

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

# The branch queues' indexes end with the id: a page's ids (by deadline, then id) from the index alone.
QUEUE_INDEXES = {'ix_dossiers_queue': ['service_point_id', 'status', 'deadline_at'],
                 'ix_dossiers_status_deadline': ['status', 'deadline_at']}
OPEN = "status IN ('received', 'routed', 'accepted', 'processing', 'supplement_requested')"
DAY = "(({0}) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date"  # the local day of a timestamp (Hanoi: UTC+7 all year)
COUNTS = ("received", "outside_radius", "resolved", "early", "on_time", "late",
          "rated_1", "rated_2", "rated_3", "rated_4", "rated_5")

FUNCTIONS = [
    # A histogram {"working days": count} with ``delta`` added at ``days`` (a key whose count falls to 0 goes).
    """CREATE FUNCTION monitoring_hist_add(h json, days integer, delta integer) RETURNS json
    LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN n = 0 THEN (coalesce(h::jsonb, '{}') - days::text)::json
                    ELSE (coalesce(h::jsonb, '{}') || jsonb_build_object(days::text, n))::json END
        FROM (SELECT coalesce((h ->> days::text)::integer, 0) + delta AS n) s
    $$""",
    # One change of the summary row of (day, point, organisation, level): counts added (negative: taken off),
    # a resolution's working days (NULL: none), a rating (NULL: none).
    f"""CREATE FUNCTION monitoring_daily_add(p_day date, p_point integer, p_org integer, p_level varchar,
        d_received integer, d_outside integer, d_resolved integer, d_early integer, d_on_time integer,
        d_late integer, p_days integer, p_rating integer, delta integer) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO monitoring_daily AS m (day, service_point_id, organisation_id, level, received, outside_radius,
            resolved, early, on_time, late, working_days, rated_1, rated_2, rated_3, rated_4, rated_5)
        VALUES (p_day, p_point, p_org, p_level, d_received, d_outside, d_resolved, d_early, d_on_time, d_late,
            CASE WHEN p_days IS NULL THEN '{{}}'::json ELSE monitoring_hist_add(NULL, p_days, delta) END,
            CASE WHEN p_rating = 1 THEN delta ELSE 0 END, CASE WHEN p_rating = 2 THEN delta ELSE 0 END,
            CASE WHEN p_rating = 3 THEN delta ELSE 0 END, CASE WHEN p_rating = 4 THEN delta ELSE 0 END,
            CASE WHEN p_rating = 5 THEN delta ELSE 0 END)
        ON CONFLICT (day, service_point_id, organisation_id, level) DO UPDATE SET
            {", ".join(f"{c} = m.{c} + EXCLUDED.{c}" for c in COUNTS)},
            working_days = CASE WHEN p_days IS NULL THEN m.working_days
                                ELSE monitoring_hist_add(m.working_days, p_days, delta) END;
    END $$""",
    # A dossier counts on the local day it was received, at its current point, organisation and level. The rows a
    # change touches are taken in the table's key order (as in the other triggers): two opposite transfers lock
    # the same two rows in the same order, and neither waits on the other in a cycle.
    f"""CREATE FUNCTION monitoring_dossiers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        c record;
    BEGIN
        FOR c IN
            WITH side (sign, id, point, org, procedure_id, received_at, outside) AS (
                SELECT -1, OLD.id, OLD.service_point_id, OLD.organisation_id, OLD.procedure_id, OLD.received_at,
                       OLD.outside_service_radius WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT 1, NEW.id, NEW.service_point_id, NEW.organisation_id, NEW.procedure_id, NEW.received_at,
                       NEW.outside_service_radius WHERE TG_OP <> 'DELETE')
            SELECT {DAY.format('s.received_at')} AS day, s.point, s.org, p.level, s.sign AS received,
                   s.sign * s.outside::integer AS outside, NULL::integer AS rating, s.sign AS delta
              FROM side s JOIN procedures p ON p.id = s.procedure_id
            UNION ALL  -- a moved dossier's rating, if any, goes with it
            SELECT {DAY.format('f.created_at')}, s.point, s.org, p.level, 0, 0, f.rating, s.sign
              FROM side s JOIN procedures p ON p.id = s.procedure_id JOIN feedback f ON f.dossier_id = s.id
             WHERE TG_OP = 'UPDATE'
            ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM monitoring_daily_add(c.day, c.point, c.org, c.level, c.received, c.outside, 0, 0, 0, 0, NULL,
                                         c.rating, c.delta);
        END LOOP;
        RETURN NULL;
    END $$""",
    # A resolution counts on the local day it was resolved, with the point, organisation and level it records.
    f"""CREATE FUNCTION monitoring_resolutions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        c record;
    BEGIN
        FOR c IN
            WITH side (sign, point, org, level, resolved_at, outcome, working_days) AS (
                SELECT -1, OLD.service_point_id, OLD.organisation_id, OLD.level, OLD.resolved_at, OLD.outcome,
                       OLD.working_days WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT 1, NEW.service_point_id, NEW.organisation_id, NEW.level, NEW.resolved_at, NEW.outcome,
                       NEW.working_days WHERE TG_OP <> 'DELETE')
            SELECT {DAY.format('resolved_at')} AS day, * FROM side ORDER BY 1, point, org, level
        LOOP
            PERFORM monitoring_daily_add(c.day, c.point, c.org, c.level, 0, 0, c.sign,
                c.sign * (c.outcome = 'early')::integer, c.sign * (c.outcome = 'on_time')::integer,
                c.sign * (c.outcome = 'late')::integer, c.working_days, NULL, c.sign);
        END LOOP;
        RETURN NULL;
    END $$""",
    # A rating counts on the local day it was given, at its dossier's current point, organisation and level.
    f"""CREATE FUNCTION monitoring_feedback_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        c record;
    BEGIN
        FOR c IN
            WITH side (sign, dossier_id, created_at, rating) AS (
                SELECT -1, OLD.dossier_id, OLD.created_at, OLD.rating WHERE TG_OP <> 'INSERT'
                UNION ALL
                SELECT 1, NEW.dossier_id, NEW.created_at, NEW.rating WHERE TG_OP <> 'DELETE')
            SELECT {DAY.format('s.created_at')} AS day, x.service_point_id AS point, x.organisation_id AS org,
                   p.level, s.rating, s.sign
              FROM side s JOIN dossiers x ON x.id = s.dossier_id JOIN procedures p ON p.id = x.procedure_id
            ORDER BY 1, 2, 3, 4
        LOOP
            PERFORM monitoring_daily_add(c.day, c.point, c.org, c.level, 0, 0, 0, 0, 0, 0, NULL, c.rating, c.sign);
        END LOOP;
        RETURN NULL;
    END $$""",
    # The whole summary from the raw rows, set-based (the backfill, a procedure's new level, a TRUNCATE).
    f"""CREATE FUNCTION monitoring_daily_rebuild() RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM monitoring_daily;
        INSERT INTO monitoring_daily (day, service_point_id, organisation_id, level, received, outside_radius,
            resolved, early, on_time, late, working_days, rated_1, rated_2, rated_3, rated_4, rated_5)
        SELECT day, point, org, lvl, sum(received), sum(outside), sum(resolved), sum(early), sum(on_time), sum(late),
               coalesce(json_object_agg(days, n) FILTER (WHERE days IS NOT NULL), '{{}}'::json),
               sum(r1), sum(r2), sum(r3), sum(r4), sum(r5)
        FROM (
            SELECT {DAY.format('d.received_at')} AS day, d.service_point_id AS point, d.organisation_id AS org,
                   p.level::varchar AS lvl, count(*) AS received,
                   count(*) FILTER (WHERE d.outside_service_radius) AS outside, 0 AS resolved, 0 AS early,
                   0 AS on_time, 0 AS late, NULL::integer AS days, NULL::bigint AS n,
                   0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5
            FROM dossiers d JOIN procedures p ON p.id = d.procedure_id GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT {DAY.format('r.resolved_at')}, r.service_point_id, r.organisation_id, r.level, 0, 0, count(*),
                   count(*) FILTER (WHERE r.outcome = 'early'), count(*) FILTER (WHERE r.outcome = 'on_time'),
                   count(*) FILTER (WHERE r.outcome = 'late'), r.working_days, count(*), 0, 0, 0, 0, 0
            FROM dossier_resolutions r GROUP BY 1, 2, 3, 4, r.working_days
            UNION ALL
            SELECT {DAY.format('f.created_at')}, d.service_point_id, d.organisation_id, p.level, 0, 0, 0, 0, 0, 0,
                   NULL, NULL, count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
                   count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
                   count(*) FILTER (WHERE f.rating = 5)
            FROM feedback f JOIN dossiers d ON d.id = f.dossier_id JOIN procedures p ON p.id = d.procedure_id
            GROUP BY 1, 2, 3, 4
        ) parts
        GROUP BY day, point, org, lvl;
    END $$""",
    # A procedure's new level: its dossiers' received counts and ratings move from the old level to the new,
    # set-based (its resolutions keep the level they recorded, as the raw figures do).
    f"""CREATE FUNCTION monitoring_daily_relevel(p_procedure integer, p_old varchar, p_new varchar) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO monitoring_daily AS m (day, service_point_id, organisation_id, level, received, outside_radius,
            working_days, rated_1, rated_2, rated_3, rated_4, rated_5)
        SELECT day, point, org, side.lvl, sum(received * side.sign), sum(outside * side.sign), '{{}}'::json,
               sum(r1 * side.sign), sum(r2 * side.sign), sum(r3 * side.sign), sum(r4 * side.sign),
               sum(r5 * side.sign)
        FROM (
            SELECT {DAY.format('d.received_at')} AS day, d.service_point_id AS point, d.organisation_id AS org,
                   count(*) AS received, count(*) FILTER (WHERE d.outside_service_radius) AS outside,
                   0 AS r1, 0 AS r2, 0 AS r3, 0 AS r4, 0 AS r5
            FROM dossiers d WHERE d.procedure_id = p_procedure GROUP BY 1, 2, 3
            UNION ALL
            SELECT {DAY.format('f.created_at')}, d.service_point_id, d.organisation_id, 0, 0,
                   count(*) FILTER (WHERE f.rating = 1), count(*) FILTER (WHERE f.rating = 2),
                   count(*) FILTER (WHERE f.rating = 3), count(*) FILTER (WHERE f.rating = 4),
                   count(*) FILTER (WHERE f.rating = 5)
            FROM feedback f JOIN dossiers d ON d.id = f.dossier_id WHERE d.procedure_id = p_procedure
            GROUP BY 1, 2, 3
        ) moved CROSS JOIN (VALUES (p_old, -1), (p_new, 1)) AS side (lvl, sign)
        GROUP BY day, point, org, side.lvl
        ON CONFLICT (day, service_point_id, organisation_id, level) DO UPDATE SET
            received = m.received + EXCLUDED.received, outside_radius = m.outside_radius + EXCLUDED.outside_radius,
            {", ".join(f"{c} = m.{c} + EXCLUDED.{c}" for c in COUNTS[6:])};
    END $$""",
    """CREATE FUNCTION monitoring_procedure_relevelled() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM monitoring_daily_relevel(NEW.id, OLD.level, NEW.level);
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION monitoring_daily_rebuild_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM monitoring_daily_rebuild();
        RETURN NULL;
    END $$""",
]
TRIGGERS = [
    """CREATE TRIGGER monitoring_dossiers AFTER INSERT OR DELETE ON dossiers
        FOR EACH ROW EXECUTE FUNCTION monitoring_dossiers_changed()""",
    """CREATE TRIGGER monitoring_dossiers_moved
        AFTER UPDATE OF service_point_id, organisation_id, procedure_id, received_at, outside_service_radius
        ON dossiers FOR EACH ROW
        WHEN (OLD.service_point_id IS DISTINCT FROM NEW.service_point_id
              OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id
              OR OLD.procedure_id IS DISTINCT FROM NEW.procedure_id
              OR OLD.received_at IS DISTINCT FROM NEW.received_at
              OR OLD.outside_service_radius IS DISTINCT FROM NEW.outside_service_radius)
        EXECUTE FUNCTION monitoring_dossiers_changed()""",
    """CREATE TRIGGER monitoring_resolutions AFTER INSERT OR UPDATE OR DELETE ON dossier_resolutions
        FOR EACH ROW EXECUTE FUNCTION monitoring_resolutions_changed()""",
    """CREATE TRIGGER monitoring_feedback AFTER INSERT OR UPDATE OF rating, created_at, dossier_id OR DELETE
        ON feedback FOR EACH ROW EXECUTE FUNCTION monitoring_feedback_changed()""",
    """CREATE TRIGGER monitoring_procedure_level AFTER UPDATE OF level ON procedures FOR EACH ROW
        WHEN (OLD.level IS DISTINCT FROM NEW.level) EXECUTE FUNCTION monitoring_procedure_relevelled()""",
    *(f"""CREATE TRIGGER monitoring_{table}_truncated AFTER TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION monitoring_daily_rebuild_trigger()"""
      for table in ("dossiers", "dossier_resolutions", "feedback")),
]
DROP_TRIGGERS = [("monitoring_dossiers", "dossiers"), ("monitoring_dossiers_moved", "dossiers"),
                 ("monitoring_resolutions", "dossier_resolutions"), ("monitoring_feedback", "feedback"),
                 ("monitoring_procedure_level", "procedures"), ("monitoring_dossiers_truncated", "dossiers"),
                 ("monitoring_dossier_resolutions_truncated", "dossier_resolutions"),
                 ("monitoring_feedback_truncated", "feedback")]
DROP_FUNCTIONS = ["monitoring_procedure_relevelled()", "monitoring_daily_relevel(integer, varchar, varchar)",
                  "monitoring_daily_rebuild_trigger()", "monitoring_daily_rebuild()", "monitoring_feedback_changed()",
                  "monitoring_resolutions_changed()", "monitoring_dossiers_changed()",
                  "monitoring_daily_add(date, integer, integer, varchar, integer, integer, integer, integer, integer, "
                  "integer, integer, integer, integer)", "monitoring_hist_add(json, integer, integer)"]


def upgrade():
    op.create_table('monitoring_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_point_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    *(sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in COUNTS[:6]),
    sa.Column('working_days', sa.JSON(), nullable=False),
    *(sa.Column(name, sa.Integer(), server_default='0', nullable=False) for name in COUNTS[6:]),
    sa.PrimaryKeyConstraint('day', 'service_point_id', 'organisation_id', 'level', name=op.f('pk_monitoring_daily'))
    )
    op.create_index('ix_feedback_created_at', 'feedback', ['created_at'], unique=False,
                    postgresql_include=['rating', 'sipas_access', 'sipas_procedure', 'sipas_officer', 'sipas_result',
                                        'sipas_feedback'])
    op.create_index('ix_payments_paid_at', 'payments', ['paid_at'], unique=False,
                    postgresql_include=['method', 'status', 'amount_vnd'])
    for name, columns in QUEUE_INDEXES.items():
        op.drop_index(name, table_name='dossiers')
        op.create_index(name, 'dossiers', [*columns, 'id'], unique=False)
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_dossiers_open_deadline', table_name='dossiers')
    op.create_index('ix_dossiers_open_deadline', 'dossiers', ['deadline_at', 'service_point_id'], unique=False,
                    postgresql_include=['organisation_id', 'procedure_id'], postgresql_where=sa.text(OPEN))
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)
    op.execute("SELECT monitoring_daily_rebuild()")
    op.execute("ANALYZE monitoring_daily")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for name, table in DROP_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in DROP_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
        op.drop_index('ix_dossiers_open_deadline', table_name='dossiers')
        op.create_index('ix_dossiers_open_deadline', 'dossiers', ['deadline_at', 'service_point_id'], unique=False,
                        postgresql_where=sa.text(OPEN))
    for name, columns in QUEUE_INDEXES.items():
        op.drop_index(name, table_name='dossiers')
        op.create_index(name, 'dossiers', columns, unique=False)
    op.drop_index('ix_payments_paid_at', table_name='payments')
    op.drop_index('ix_feedback_created_at', table_name='feedback')
    op.drop_table('monitoring_daily')
