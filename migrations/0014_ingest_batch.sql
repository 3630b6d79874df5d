-- Group commit of inbound messages: lifeline_ingest for each message of a JSON array, in order, in
-- one transaction and one round trip, so a busy gateway pays one commit per batch instead of one per
-- message. If any message fails (a concurrent twin's unique violation, a deadlock, a refused value)
-- the batch rolls back and the caller stores each of its messages on its own.
--
-- lifeline_ingest itself no longer rewrites the contact row on every message (only a new contact or
-- a changed name is written). The batch and the routing snapshot plan their statements once per
-- session (generic plans: every statement is keyed by ids). Left to choose, PostgreSQL kept planning
-- the snapshot query anew on every call, which cost more than running it.
CREATE OR REPLACE FUNCTION lifeline_ingest(
  p_channel text,
  p_link uuid,
  p_from text,
  p_name text,
  p_channel_message_id text,
  p_body text,
  p_attachments jsonb,
  p_location jsonb,
  p_received_at timestamptz,
  p_client_message_id text,
  p_thread_ids jsonb
) RETURNS TABLE (conversation_id uuid, message_id bigint, contact_id uuid, duplicate boolean, outbox_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_contact uuid;
  v_conv uuid;
  v_thread uuid;
  v_thread_open boolean;
  v_msg bigint;
  v_outbox bigint;
  v_opened boolean := false;
  v_reopened boolean := false;
  v_kind text := CASE WHEN p_channel IN ('sms', 'voice') THEN 'phone' ELSE p_channel END;
  v_address text := CASE WHEN p_channel IN ('sms', 'voice')
                         THEN coalesce(nullif(regexp_replace(p_from, '[[:space:]().-]', '', 'g'), ''), p_from)
                         ELSE p_from END;
BEGIN
  SELECT m.conversation_id, m.id, c.contact_id INTO v_conv, v_msg, v_contact
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
   WHERE m.channel_link_id = p_link AND m.channel_message_id = p_channel_message_id AND m.direction = 'inbound';
  IF FOUND THEN
    RETURN QUERY SELECT v_conv, v_msg, v_contact, true, NULL::bigint;
    RETURN;
  END IF;
  v_conv := NULL;

  -- The contact row is written only when it is new or its name changes (not once per message).
  SELECT ct.id INTO v_contact FROM contacts ct WHERE ct.channel = v_kind AND ct.address = v_address;
  IF v_contact IS NULL THEN
    INSERT INTO contacts AS ct (channel, address, name) VALUES (v_kind, v_address, p_name)
      ON CONFLICT (channel, address) DO UPDATE SET name = coalesce(excluded.name, ct.name)
      RETURNING ct.id INTO v_contact;
  ELSIF p_name IS NOT NULL THEN
    UPDATE contacts SET name = p_name WHERE id = v_contact AND name IS DISTINCT FROM p_name;
  END IF;

  IF p_thread_ids IS NOT NULL AND jsonb_array_length(p_thread_ids) > 0 THEN
    SELECT t.conversation_id INTO v_thread FROM (
        SELECT m.id, m.conversation_id FROM messages m
         WHERE m.channel_link_id = p_link AND m.direction = 'inbound'
           AND m.channel_message_id IN (SELECT jsonb_array_elements_text(p_thread_ids))
        UNION ALL
        SELECT m.id, m.conversation_id FROM messages m
         WHERE m.channel_link_id = p_link AND m.direction = 'outbound'
           AND m.channel_message_id IN (SELECT jsonb_array_elements_text(p_thread_ids))
      ) t ORDER BY t.id DESC LIMIT 1;
    IF v_thread IS NOT NULL THEN
      SELECT cv.status IN ('queued', 'offered', 'active', 'on_hold') INTO v_thread_open FROM conversations cv WHERE cv.id = v_thread;
      IF v_thread_open THEN
        v_conv := v_thread;
      ELSIF NOT EXISTS (SELECT 1 FROM conversations o
                         WHERE o.contact_id = v_contact AND o.status IN ('queued', 'offered', 'active', 'on_hold')) THEN
        BEGIN
          UPDATE conversations cv
             SET status = 'queued', agent_id = NULL, resolution = NULL, resolved_at = NULL, offered_at = NULL,
                 queued_at = now(), version = cv.version + 1
           WHERE cv.id = v_thread AND cv.status IN ('resolved', 'abandoned')
             AND NOT EXISTS (SELECT 1 FROM conversations o
                              WHERE o.contact_id = cv.contact_id AND o.status IN ('queued', 'offered', 'active', 'on_hold'))
          RETURNING cv.id INTO v_conv;
          v_reopened := FOUND;
        EXCEPTION WHEN unique_violation THEN
          v_conv := NULL; -- the contact opened another conversation meanwhile: the message goes there
        END;
      END IF;
    END IF;
  END IF;

  WHILE v_conv IS NULL LOOP
    SELECT cv.id INTO v_conv FROM conversations cv
     WHERE cv.contact_id = v_contact AND cv.status IN ('queued', 'offered', 'active', 'on_hold');
    EXIT WHEN FOUND;
    INSERT INTO conversations AS cv (channel, channel_link_id, contact_id, location)
      VALUES (p_channel, p_link, v_contact, p_location)
      ON CONFLICT (contact_id) WHERE status IN ('queued', 'offered', 'active', 'on_hold') DO NOTHING
      RETURNING cv.id INTO v_conv;
    IF FOUND THEN
      v_opened := true;
    END IF;
  END LOOP;

  INSERT INTO messages AS m (conversation_id, channel_link_id, channel_message_id, direction, body, attachments,
                             delivery_status, client_message_id, received_at)
    VALUES (v_conv, p_link, p_channel_message_id, 'inbound', p_body, coalesce(p_attachments, '[]'::jsonb),
            'received', p_client_message_id, p_received_at)
    ON CONFLICT (channel_link_id, channel_message_id) WHERE direction = 'inbound' DO NOTHING
    RETURNING m.id INTO v_msg;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'message % stored concurrently', p_channel_message_id USING ERRCODE = 'unique_violation';
  END IF;

  IF v_opened THEN
    INSERT INTO events (conversation_id, type, actor_type, actor_id, data)
      VALUES (v_conv, 'conversation.opened', 'citizen', v_contact::text,
              jsonb_build_object('channel', p_channel, 'channelLinkId', p_link));
  ELSE
    IF v_reopened THEN
      INSERT INTO events (conversation_id, type, actor_type, actor_id, data)
        VALUES (v_conv, 'conversation.reopened', 'system', NULL,
                jsonb_build_object('reason', 'the citizen answered the thread', 'messageId', v_msg));
    END IF;
    UPDATE conversations SET last_message_at = now(), location = coalesce(p_location, location) WHERE id = v_conv;
  END IF;

  INSERT INTO outbox (kind, conversation_id, message_id) VALUES ('route', v_conv, v_msg) RETURNING id INTO v_outbox;
  RETURN QUERY SELECT v_conv, v_msg, v_contact, false, v_outbox;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION lifeline_ingest_batch(p_messages jsonb)
RETURNS TABLE (idx integer, conversation_id uuid, message_id bigint, contact_id uuid, duplicate boolean, outbox_id bigint)
LANGUAGE plpgsql VOLATILE SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  v_item jsonb;
  v_idx integer := 0;
  r record;
BEGIN
  FOR v_item IN SELECT value FROM jsonb_array_elements(p_messages) LOOP
    SELECT * INTO STRICT r FROM lifeline_ingest(
      v_item->>'channel', (v_item->>'link')::uuid, v_item->>'from', v_item->>'name', v_item->>'id',
      v_item->>'body', coalesce(v_item->'attachments', '[]'::jsonb), nullif(v_item->'location', 'null'::jsonb),
      (v_item->>'receivedAt')::timestamptz, v_item->>'clientId', nullif(v_item->'threadIds', 'null'::jsonb));
    RETURN QUERY SELECT v_idx, r.conversation_id, r.message_id, r.contact_id, r.duplicate, r.outbox_id;
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
