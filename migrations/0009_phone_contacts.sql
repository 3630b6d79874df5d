-- One contact per phone number, whether it texts or calls: contacts.channel becomes the kind of
-- address ('phone' for sms and voice), and ingest files sms and voice senders under it with the
-- number's punctuation removed, so a caller who texted before lands in the same conversation.
UPDATE contacts SET channel = 'phone' WHERE channel IN ('sms', 'voice');
--> statement-breakpoint
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

  INSERT INTO contacts AS ct (channel, address, name) VALUES (v_kind, v_address, p_name)
    ON CONFLICT (channel, address) DO UPDATE SET name = coalesce(excluded.name, ct.name)
    RETURNING ct.id INTO v_contact;

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
