-- Reporting views with stable names (prefix report_) and a read-only group role for BI tools.
-- The views carry metadata and counts only, never a message body, so a confidential conversation
-- keeps its figures in reports and nothing of its content. Times are UTC; days and hours are UTC.
-- The views belong to the migrating user: the reporting role reads them under the owner's rights
-- and holds no right on any table. Later migrations may add columns at the end of a view; they do
-- not rename or remove one.
CREATE OR REPLACE VIEW report_conversations AS
SELECT c.id AS conversation_id,
       c.channel,
       c.status,
       c.priority,
       c.emergency,
       c.queue_id,
       q.name AS queue_name,
       c.agent_id,
       a.display_name AS agent_name,
       c.opened_at,
       c.first_offered_at,
       c.accepted_at,
       c.first_response_at,
       c.resolved_at,
       c.escalated_at,
       extract(epoch FROM c.accepted_at - c.opened_at)::double precision AS answer_seconds,
       extract(epoch FROM c.resolved_at - c.accepted_at)::double precision AS handle_seconds,
       c.resolution,
       (c.accepted_at IS NOT NULL) AS answered,
       (coalesce(c.resolution IN ('abandoned', 'timed_out'), false)
         OR c.status = 'abandoned'
         OR (c.resolved_at IS NOT NULL AND c.accepted_at IS NULL)) AS abandoned,
       (c.escalated_at IS NOT NULL) AS escalated,
       c.confidential,
       coalesce(mc.inbound, 0) AS inbound_messages,
       coalesce(mc.outbound, 0) AS outbound_messages,
       coalesce(mc.system, 0) AS system_messages,
       coalesce(mc.note, 0) AS note_messages
  FROM conversations c
  LEFT JOIN queues q ON q.id = c.queue_id
  LEFT JOIN agents a ON a.id = c.agent_id
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE m.direction = 'inbound')::int AS inbound,
           count(*) FILTER (WHERE m.direction = 'outbound')::int AS outbound,
           count(*) FILTER (WHERE m.direction = 'system')::int AS system,
           count(*) FILTER (WHERE m.direction = 'note')::int AS note
      FROM messages m
     WHERE m.conversation_id = c.id) mc ON true;
--> statement-breakpoint
CREATE OR REPLACE VIEW report_agents AS
SELECT a.id AS agent_id,
       a.username,
       a.display_name AS agent_name,
       a.role,
       a.presence,
       a.presence_since,
       (a.presence <> 'offline' AND NOT a.disabled) AS signed_in,
       a.disabled,
       a.queue_ids
  FROM agents a;
--> statement-breakpoint
CREATE OR REPLACE VIEW report_agent_daily AS
SELECT (r.opened_at AT TIME ZONE 'UTC')::date AS day,
       r.agent_id,
       max(r.agent_name) AS agent_name,
       count(*)::int AS conversations,
       count(*) FILTER (WHERE r.answered)::int AS answered,
       count(*) FILTER (WHERE r.abandoned)::int AS abandoned,
       count(*) FILTER (WHERE r.escalated)::int AS escalated,
       avg(r.answer_seconds) AS avg_answer_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p50_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p90_seconds,
       avg(r.handle_seconds) AS avg_handle_seconds
  FROM report_conversations r
 WHERE r.agent_id IS NOT NULL
 GROUP BY 1, 2;
--> statement-breakpoint
CREATE OR REPLACE VIEW report_queue_daily AS
SELECT (r.opened_at AT TIME ZONE 'UTC')::date AS day,
       r.queue_id,
       max(r.queue_name) AS queue_name,
       count(*)::int AS conversations,
       count(*) FILTER (WHERE r.answered)::int AS answered,
       count(*) FILTER (WHERE r.abandoned)::int AS abandoned,
       count(*) FILTER (WHERE r.escalated)::int AS escalated,
       avg(r.answer_seconds) AS avg_answer_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p50_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p90_seconds,
       avg(r.handle_seconds) AS avg_handle_seconds
  FROM report_conversations r
 GROUP BY 1, 2;
--> statement-breakpoint
CREATE OR REPLACE VIEW report_hourly AS
SELECT date_trunc('hour', r.opened_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS hour,
       count(*)::int AS conversations,
       count(*) FILTER (WHERE r.answered)::int AS answered,
       count(*) FILTER (WHERE r.abandoned)::int AS abandoned,
       count(*) FILTER (WHERE r.escalated)::int AS escalated,
       avg(r.answer_seconds) AS avg_answer_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p50_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.answer_seconds) AS answer_p90_seconds,
       avg(r.handle_seconds) AS avg_handle_seconds
  FROM report_conversations r
 GROUP BY 1;
--> statement-breakpoint
COMMENT ON VIEW report_conversations IS 'One row per conversation: channel, queue, agent, milestones, answer and handle times, outcome flags and message counts. Never message bodies.';
--> statement-breakpoint
COMMENT ON COLUMN report_conversations.conversation_id IS 'The conversation (conversations.id).';
COMMENT ON COLUMN report_conversations.channel IS 'What the citizen used: sms, email, webchat, slack, voice.';
COMMENT ON COLUMN report_conversations.status IS 'Current status: queued, offered, active, on_hold, resolved, abandoned.';
COMMENT ON COLUMN report_conversations.priority IS 'Priority score from the routing rules (higher is served first).';
COMMENT ON COLUMN report_conversations.emergency IS 'Flagged as an emergency by an agent.';
COMMENT ON COLUMN report_conversations.queue_id IS 'The queue the conversation was routed to (null before routing).';
COMMENT ON COLUMN report_conversations.queue_name IS 'That queue''s name.';
COMMENT ON COLUMN report_conversations.agent_id IS 'The agent holding (or who last held) the conversation; for an offered one, the agent it is offered to.';
COMMENT ON COLUMN report_conversations.agent_name IS 'That agent''s display name.';
COMMENT ON COLUMN report_conversations.opened_at IS 'When the first message opened the conversation. Range filters and the days and hours of the other views use this time.';
COMMENT ON COLUMN report_conversations.first_offered_at IS 'When it was first offered to an agent.';
COMMENT ON COLUMN report_conversations.accepted_at IS 'When an agent first accepted it (null: never answered).';
COMMENT ON COLUMN report_conversations.first_response_at IS 'When the first reply reached the citizen''s channel.';
COMMENT ON COLUMN report_conversations.resolved_at IS 'When it was closed.';
COMMENT ON COLUMN report_conversations.escalated_at IS 'When it missed its answer target and escalated (null: it did not).';
COMMENT ON COLUMN report_conversations.answer_seconds IS 'accepted_at - opened_at in seconds (null: never answered).';
COMMENT ON COLUMN report_conversations.handle_seconds IS 'resolved_at - accepted_at in seconds (null: not answered or not closed).';
COMMENT ON COLUMN report_conversations.resolution IS 'How it was closed: handled, false_alarm, transferred, abandoned, duplicate, referred, timed_out (closed for inactivity).';
COMMENT ON COLUMN report_conversations.answered IS 'True when an agent accepted it.';
COMMENT ON COLUMN report_conversations.abandoned IS 'True when closed as abandoned by an agent or timed_out by the inactivity timer, or closed without ever being accepted.';
COMMENT ON COLUMN report_conversations.escalated IS 'True when it escalated (escalated_at is set).';
COMMENT ON COLUMN report_conversations.confidential IS 'Confidential: its content is restricted; its figures are reported like any other.';
COMMENT ON COLUMN report_conversations.inbound_messages IS 'Messages from the citizen.';
COMMENT ON COLUMN report_conversations.outbound_messages IS 'Replies by agents.';
COMMENT ON COLUMN report_conversations.system_messages IS 'Texts the system sent (acknowledgement, bounce-back, escalation, closing texts) and call log lines.';
COMMENT ON COLUMN report_conversations.note_messages IS 'Internal notes between agents (never sent to the citizen).';
--> statement-breakpoint
COMMENT ON VIEW report_agents IS 'One row per agent: role and presence now. No credentials.';
--> statement-breakpoint
COMMENT ON COLUMN report_agents.agent_id IS 'The agent (agents.id).';
COMMENT ON COLUMN report_agents.username IS 'Sign-in name.';
COMMENT ON COLUMN report_agents.agent_name IS 'Display name.';
COMMENT ON COLUMN report_agents.role IS 'agent, supervisor or admin.';
COMMENT ON COLUMN report_agents.presence IS 'available, busy, away, dnd or offline.';
COMMENT ON COLUMN report_agents.presence_since IS 'Since when the presence holds.';
COMMENT ON COLUMN report_agents.signed_in IS 'True when the agent is not offline and not disabled.';
COMMENT ON COLUMN report_agents.disabled IS 'True when the account is disabled.';
COMMENT ON COLUMN report_agents.queue_ids IS 'Queues the agent serves (empty: every queue).';
--> statement-breakpoint
COMMENT ON VIEW report_agent_daily IS 'Per agent per UTC day (of opened_at): the conversations the agent holds or last held, from report_conversations.';
--> statement-breakpoint
COMMENT ON VIEW report_queue_daily IS 'Per queue per UTC day (of opened_at), from report_conversations; queue_id null: not routed.';
--> statement-breakpoint
COMMENT ON VIEW report_hourly IS 'Per UTC hour (of opened_at), every conversation, from report_conversations.';
--> statement-breakpoint
COMMENT ON COLUMN report_agent_daily.day IS 'UTC date the conversations opened.';
COMMENT ON COLUMN report_agent_daily.agent_id IS 'The agent (agents.id).';
COMMENT ON COLUMN report_agent_daily.agent_name IS 'Display name.';
COMMENT ON COLUMN report_queue_daily.day IS 'UTC date the conversations opened.';
COMMENT ON COLUMN report_queue_daily.queue_id IS 'The queue (queues.id); null: conversations not routed to a queue.';
COMMENT ON COLUMN report_queue_daily.queue_name IS 'The queue''s name.';
COMMENT ON COLUMN report_hourly.hour IS 'Start of the UTC hour the conversations opened in.';
--> statement-breakpoint
DO $$
DECLARE
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY['report_agent_daily', 'report_queue_daily', 'report_hourly'] LOOP
    EXECUTE format('COMMENT ON COLUMN %I.conversations IS %L', v, 'Conversations opened in the period.');
    EXECUTE format('COMMENT ON COLUMN %I.answered IS %L', v, 'Of those, accepted by an agent.');
    EXECUTE format('COMMENT ON COLUMN %I.abandoned IS %L', v, 'Of those, abandoned (see report_conversations.abandoned).');
    EXECUTE format('COMMENT ON COLUMN %I.escalated IS %L', v, 'Of those, escalated.');
    EXECUTE format('COMMENT ON COLUMN %I.avg_answer_seconds IS %L', v, 'Mean answer_seconds of the answered ones (null: none).');
    EXECUTE format('COMMENT ON COLUMN %I.answer_p50_seconds IS %L', v, 'Median answer_seconds (percentile_cont 0.5) of the answered ones.');
    EXECUTE format('COMMENT ON COLUMN %I.answer_p90_seconds IS %L', v, '90th percentile answer_seconds (percentile_cont 0.9) of the answered ones.');
    EXECUTE format('COMMENT ON COLUMN %I.avg_handle_seconds IS %L', v, 'Mean handle_seconds of the answered and closed ones (null: none).');
  END LOOP;
END $$;
--> statement-breakpoint
-- The role is cluster-wide and every database of the cluster runs this migration (test databases
-- migrate side by side): create it only when missing, and take a concurrent creation as done.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lifeline_reporting') THEN
    CREATE ROLE lifeline_reporting NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
-- Grants are per database: nothing on the tables, sequences or functions of this one, the views only.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM lifeline_reporting;
--> statement-breakpoint
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM lifeline_reporting;
--> statement-breakpoint
REVOKE CREATE ON SCHEMA public FROM lifeline_reporting;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO lifeline_reporting;
--> statement-breakpoint
GRANT SELECT ON report_conversations, report_agents, report_agent_daily, report_queue_daily, report_hourly TO lifeline_reporting;
