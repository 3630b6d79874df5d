DROP INDEX "messages_channel_message_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "messages_channel_message_uq" ON "messages" USING btree ("channel_link_id","channel_message_id") WHERE direction = 'inbound';--> statement-breakpoint
-- lifeline_ingest again, with the unique index now limited to inbound rows.
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
  p_client_message_id text
) RETURNS TABLE (conversation_id uuid, message_id bigint, contact_id uuid, duplicate boolean, outbox_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_contact uuid;
  v_conv uuid;
  v_msg bigint;
  v_outbox bigint;
  v_opened boolean := false;
BEGIN
  SELECT m.conversation_id, m.id, c.contact_id INTO v_conv, v_msg, v_contact
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
   WHERE m.channel_link_id = p_link AND m.channel_message_id = p_channel_message_id AND m.direction = 'inbound';
  IF FOUND THEN
    RETURN QUERY SELECT v_conv, v_msg, v_contact, true, NULL::bigint;
    RETURN;
  END IF;

  INSERT INTO contacts AS ct (channel, address, name) VALUES (p_channel, p_from, p_name)
    ON CONFLICT (channel, address) DO UPDATE SET name = coalesce(excluded.name, ct.name)
    RETURNING ct.id INTO v_contact;

  LOOP
    SELECT cv.id INTO v_conv FROM conversations cv
     WHERE cv.contact_id = v_contact AND cv.status IN ('queued', 'offered', 'active', 'on_hold');
    EXIT WHEN FOUND;
    INSERT INTO conversations AS cv (channel, channel_link_id, contact_id, location)
      VALUES (p_channel, p_link, v_contact, p_location)
      ON CONFLICT (contact_id) WHERE status IN ('queued', 'offered', 'active', 'on_hold') DO NOTHING
      RETURNING cv.id INTO v_conv;
    IF FOUND THEN
      v_opened := true;
      EXIT;
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
    UPDATE conversations SET last_message_at = now(), location = coalesce(p_location, location) WHERE id = v_conv;
  END IF;

  INSERT INTO outbox (kind, conversation_id, message_id) VALUES ('route', v_conv, v_msg) RETURNING id INTO v_outbox;
  RETURN QUERY SELECT v_conv, v_msg, v_contact, false, v_outbox;
END;
$$;
