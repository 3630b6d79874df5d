-- Group commit of inbound messages: lifeline_ingest for each message of a JSON array, in order, in
-- one transaction and one round trip, so a busy gateway pays one commit per batch instead of one per
-- message. Each message runs in its own subtransaction: one that fails (a concurrent twin's unique
-- violation, a deadlock, a refused value) is answered with its SQLSTATE and message and leaves the
-- others stored; the caller retries it on its own.
--
-- Both functions here plan their statements once per session (generic plans: every statement is
-- keyed by ids). Left to choose, PostgreSQL kept planning the snapshot query anew on every call, which
-- cost more than running it.
CREATE OR REPLACE FUNCTION lifeline_ingest_batch(p_messages jsonb)
RETURNS TABLE (idx integer, conversation_id uuid, message_id bigint, contact_id uuid, duplicate boolean, outbox_id bigint,
               error_code text, error_message text)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  v_item jsonb;
  v_idx integer := 0;
  r record;
BEGIN
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_messages) LOOP
    BEGIN
      SELECT * INTO STRICT r FROM lifeline_ingest(
        v_item->>'channel', (v_item->>'link')::uuid, v_item->>'from', v_item->>'name', v_item->>'id',
        v_item->>'body', coalesce(v_item->'attachments', '[]'::jsonb), nullif(v_item->'location', 'null'::jsonb),
        (v_item->>'receivedAt')::timestamptz, v_item->>'clientId', nullif(v_item->'threadIds', 'null'::jsonb));
      RETURN QUERY SELECT v_idx, r.conversation_id, r.message_id, r.contact_id, r.duplicate, r.outbox_id, NULL::text, NULL::text;
    EXCEPTION WHEN OTHERS THEN
      RETURN QUERY SELECT v_idx, NULL::uuid, NULL::bigint, NULL::uuid, NULL::boolean, NULL::bigint, SQLSTATE::text, SQLERRM::text;
    END;
    v_idx := v_idx + 1;
  END LOOP;
END;
$$;
--> statement-breakpoint
-- The routing worker's read of its jobs: each outbox row with its conversation, message (and the
-- author's name) and the timings of the conversation's queue (the default queue while it has none).
CREATE OR REPLACE FUNCTION lifeline_route_snapshots(p_outbox_ids bigint[])
RETURNS TABLE (outbox_id bigint, processed boolean,
               c_id uuid, c_status text, c_agent_id uuid, c_queue_id uuid, c_priority integer, c_contact_id uuid, c_channel text,
               c_opened_at text, c_queued_at text, c_last_message_at text, c_escalated_at text,
               q_inactivity_minutes double precision, q_answer_target_seconds integer,
               m_id bigint, m_direction text, m_body text, m_attachments jsonb, m_delivery_status text, m_delivery_error text,
               m_client_message_id text, m_created_at text, author_name text)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
-- A handful of ids each time: index lookups, never a hash of the whole conversations table (which a
-- generic plan would pick while the table is small, and keep as it grows).
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
BEGIN
  RETURN QUERY
    SELECT o.id, o.processed_at IS NOT NULL,
           c.id, c.status, c.agent_id, c.queue_id, c.priority, c.contact_id, c.channel,
           to_json(c.opened_at) #>> '{}', to_json(c.queued_at) #>> '{}',
           to_json(c.last_message_at) #>> '{}', to_json(c.escalated_at) #>> '{}',
           q.inactivity_minutes, q.answer_target_seconds,
           m.id, m.direction, m.body, m.attachments, m.delivery_status, m.delivery_error,
           m.client_message_id, to_json(m.created_at) #>> '{}', a.display_name
      FROM outbox o
      JOIN conversations c ON c.id = o.conversation_id
      LEFT JOIN messages m ON m.id = o.message_id
      LEFT JOIN agents a ON a.id = m.author_agent_id
      LEFT JOIN LATERAL (
        SELECT qu.inactivity_minutes, qu.answer_target_seconds FROM queues qu
         WHERE qu.id = c.queue_id OR qu.is_default ORDER BY qu.is_default ASC LIMIT 1) q ON true
     WHERE o.id = ANY (p_outbox_ids);
END;
$$;
