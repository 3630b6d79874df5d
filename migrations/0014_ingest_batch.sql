-- Group commit of inbound messages: lifeline_ingest for each message of a JSON array, in order, in
-- one transaction and one round trip, so a busy gateway pays one commit per batch instead of one per
-- message. Each message runs in its own subtransaction: one that fails (a concurrent twin's unique
-- violation, a deadlock, a refused value) is answered with its SQLSTATE and message and leaves the
-- others stored; the caller retries it on its own.
CREATE OR REPLACE FUNCTION lifeline_ingest_batch(p_messages jsonb)
RETURNS TABLE (idx integer, conversation_id uuid, message_id bigint, contact_id uuid, duplicate boolean, outbox_id bigint,
               error_code text, error_message text)
LANGUAGE plpgsql VOLATILE AS $$
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
