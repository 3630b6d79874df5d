/**
 * The console's shared-conversation controls and the supervisor's view: who
 * is in the open conversation (and connected), invite, join, leave, transfer,
 * take over, internal notes and one-way notices; the log's system entries;
 * the supervisor panel (agents, queues, live) and escalation alerts.
 */
import { OPEN_STATUSES, roleAtLeast } from '../domain/types.ts';
import type {
  AgentClientEvents,
  AgentView,
  ConversationEventView,
  ConversationView,
  DirectoryView,
  ParticipantView,
} from '../realtime/events.ts';
import { channelLabel } from './console-view.ts';
import { clientId, el, formatDuration, formatTime, type StatusLine } from './dom.ts';
import { describeError, type requester } from './request.ts';

type Ask = ReturnType<typeof requester<AgentClientEvents>>;

const name = (data: Record<string, unknown>, key: string): string => (typeof data[key] === 'string' ? (data[key] as string) : 'someone');

/** One line for a log entry: "bob joined", "alice transferred this to queue Fire". */
export function describeEvent(e: ConversationEventView): string {
  const who = e.actorName ?? 'The system';
  switch (e.type) {
    case 'conversation.raised':
      return 'Conversation raised';
    case 'conversation.offered':
      return 'Offered to a call-taker';
    case 'conversation.accepted':
      return `${who} accepted the conversation`;
    case 'conversation.requeued':
      return 'Returned to the queue';
    case 'conversation.escalated':
      return 'Escalated: unanswered past its target';
    case 'conversation.transferred':
      return `${who} transferred the conversation to ${e.data.toName ? String(e.data.toName) : `queue ${name(e.data, 'queueName')}`}`;
    case 'conversation.taken_over':
      return `${who} took the conversation over${e.data.fromName ? ` from ${String(e.data.fromName)}` : ''}`;
    case 'conversation.resolved':
      return `${who} resolved the conversation`;
    case 'conversation.reopened':
      return 'Conversation reopened';
    case 'conversation.notice_sent':
      return `${who} sent a notice to the citizen`;
    case 'participant.invited':
      return `${who} invited ${name(e.data, 'agentName')}`;
    case 'participant.joined':
      return `${name(e.data, 'agentName')} joined`;
    case 'participant.left':
      return `${name(e.data, 'agentName')} left`;
    default:
      return e.type.replace(/[._]/g, ' ');
  }
}

/** A system entry of the log, placed by time among the messages. */
export function eventItem(e: ConversationEventView): HTMLLIElement {
  return el('li', { class: 'msg msg-event', testid: 'log-event', attrs: { 'data-event-type': e.type, 'data-event-id': String(e.id) } }, [
    el('p', { class: 'msg-meta' }, [
      el('span', { class: 'msg-author', text: 'System update' }),
      el('time', { class: 'msg-time', text: formatTime(e.at), attrs: { datetime: e.at } }),
    ]),
    el('p', { class: 'msg-body', text: describeEvent(e), testid: 'event-text' }),
  ]);
}

export interface SharingElements {
  participants: HTMLUListElement;
  join: HTMLButtonElement;
  leave: HTMLButtonElement;
  takeover: HTMLButtonElement;
  inviteAgent: HTMLSelectElement;
  invite: HTMLButtonElement;
  transferTarget: HTMLSelectElement;
  transferNote: HTMLInputElement;
  transfer: HTMLButtonElement;
  noteForm: HTMLFormElement;
  noteText: HTMLTextAreaElement;
  addNote: HTMLButtonElement;
  sendNotice: HTMLButtonElement;
  panel: HTMLElement;
  agentRows: HTMLTableSectionElement;
  queueRows: HTMLTableSectionElement;
  alerts: HTMLElement;
  alertList: HTMLUListElement;
}

export interface SharingHost {
  session(): { me: AgentView; ask: Ask } | undefined;
  current(): ConversationView | undefined;
  conversations(): Iterable<ConversationView>;
  open(id: string, join?: boolean): Promise<void>;
  upsert(c: ConversationView): void;
  status: StatusLine;
}

/** Wires the controls; call the returned hooks from the console's own events. */
export function consoleSharing(ui: SharingElements, host: SharingHost) {
  let directory: DirectoryView = { agents: [], queues: [] };
  let participants: ParticipantView[] = [];
  /** Conversations this agent was invited to and has not joined. */
  const invited = new Set<string>();

  const isSupervisor = () => {
    const s = host.session();
    return s ? roleAtLeast(s.me.role, 'supervisor') : false;
  };

  const renderParticipants = () => {
    ui.participants.replaceChildren(
      ...participants.map((p) =>
        el('li', {
          class: `participant participant-${p.kind}${p.connected ? ' connected' : ''}`,
          testid: 'participant',
          text: `${p.displayName}${p.kind === 'owner' ? ' (holds it)' : p.kind === 'watching' ? ' (watching)' : ''}${p.connected ? ' · active' : ''}`,
          attrs: { 'data-agent-id': p.agentId, 'data-kind': p.kind, 'data-connected': String(p.connected) },
        }),
      ),
    );
  };

  const options = (select: HTMLSelectElement, items: Array<[string, string]>) => {
    const keep = select.value;
    select.replaceChildren(...items.map(([value, text]) => el('option', { text, attrs: { value } })));
    if (items.some(([value]) => value === keep)) select.value = keep;
  };

  /** Shows the controls the viewer may use on the open conversation. */
  const render = () => {
    const s = host.session();
    const c = host.current();
    if (!s || !c) return;
    const open = OPEN_STATUSES.includes(c.status);
    const owner = c.agentId === s.me.id;
    const participant = c.participantIds.includes(s.me.id);
    const supervisor = roleAtLeast(s.me.role, 'supervisor');
    ui.join.hidden = !open || owner || participant || !(supervisor || invited.has(c.id));
    ui.leave.hidden = !open || !participant || owner;
    ui.takeover.hidden = !open || !supervisor || owner;
    const manage = open && (owner || supervisor);
    ui.invite.disabled = ui.inviteAgent.disabled = !manage;
    ui.transfer.disabled = ui.transferTarget.disabled = ui.transferNote.disabled = !manage;
    ui.addNote.disabled = !(owner || participant || supervisor);
    ui.sendNotice.disabled = !open || !(owner || participant || supervisor);
    const others = directory.agents.filter((a) => a.id !== s.me.id && a.id !== c.agentId);
    options(ui.inviteAgent, others.filter((a) => !c.participantIds.includes(a.id)).map((a) => [a.id, `${a.displayName} (${a.presence})`]));
    options(ui.transferTarget, [
      ...others.map((a): [string, string] => [`agent:${a.id}`, `${a.displayName} (${a.presence})`]),
      ...directory.queues.map((q): [string, string] => [`queue:${q.id}`, `Queue ${q.name}`]),
    ]);
  };

  const renderPanel = () => {
    if (!isSupervisor()) return;
    ui.panel.hidden = false;
    const all = [...host.conversations()];
    const now = Date.now();
    ui.agentRows.replaceChildren(
      ...directory.agents.map((a) => {
        const held = all.filter((c) => c.agentId === a.id).length;
        const shared = all.filter((c) => c.participantIds.includes(a.id)).length;
        return el('tr', { testid: 'agent-row', attrs: { 'data-agent-id': a.id, 'data-presence': a.presence } }, [
          el('td', { text: a.displayName }),
          el('td', { text: a.presence, class: `presence-${a.presence}`, testid: 'agent-presence' }),
          el('td', { text: `${a.load}/${a.capacity}`, testid: 'agent-load' }),
          el('td', { text: `${held}${shared ? ` + ${shared} shared` : ''}`, testid: 'agent-conversations' }),
        ]);
      }),
    );
    const queues: Array<{ id: string | null; name: string }> = [...directory.queues, { id: null, name: 'Not yet queued' }];
    ui.queueRows.replaceChildren(
      ...queues.flatMap((q) => {
        const mine = all.filter((c) => c.queueId === q.id);
        if (q.id === null && mine.length === 0) return [];
        const waiting = mine.filter((c) => c.status === 'queued');
        const oldest = waiting.reduce((min, c) => Math.min(min, Date.parse(c.queuedAt)), Infinity);
        return [
          el('tr', { testid: 'queue-row', attrs: { 'data-queue-id': q.id ?? '' } }, [
            el('td', { text: q.name }),
            el('td', { text: String(waiting.length), testid: 'queue-waiting' }),
            el('td', { text: String(mine.filter((c) => c.status === 'offered').length), testid: 'queue-offered' }),
            el('td', { text: String(mine.filter((c) => c.status === 'active' || c.status === 'on_hold').length), testid: 'queue-active' }),
            el('td', { text: Number.isFinite(oldest) ? formatDuration(now - oldest) : '—', testid: 'queue-longest' }),
          ]),
        ];
      }),
    );
  };

  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Re-reads agents and queues (presence, load) soon, once however many changes come in. */
  const refresh = () => {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = undefined;
      void (async () => {
        const s = host.session();
        if (!s) return;
        const reply = await s.ask('directory:list', {});
        if (!reply.ok) return;
        directory = reply.data;
        render();
        renderPanel();
      })();
    }, 300);
  };

  const act = async <T>(what: string, run: (ask: Ask, c: ConversationView) => Promise<{ ok: true; data: T } | { ok: false; error: { code: string; message: string; field?: string } }>) => {
    const s = host.session();
    const c = host.current();
    if (!s || !c) return undefined;
    const reply = await run(s.ask, c);
    if (!reply.ok) {
      host.status.error(`Could not ${what}: ${describeError(reply)}`);
      return undefined;
    }
    host.status.clear();
    return reply.data;
  };

  // Agents are not pushed each other's presence: look again when picking someone.
  ui.inviteAgent.addEventListener('focus', () => refresh());
  ui.transferTarget.addEventListener('focus', () => refresh());
  ui.join.addEventListener('click', () => {
    const c = host.current();
    if (c) void host.open(c.id, true);
  });
  ui.leave.addEventListener('click', () => {
    void act('leave', (ask, c) => ask('conversation:leave', { conversationId: c.id })).then((c) => {
      if (c) host.upsert(c);
    });
  });
  ui.takeover.addEventListener('click', () => {
    void act('take over', (ask, c) => ask('conversation:takeover', { conversationId: c.id })).then((c) => {
      if (c) host.upsert(c);
    });
  });
  ui.invite.addEventListener('click', () => {
    const agentId = ui.inviteAgent.value;
    const label = ui.inviteAgent.selectedOptions[0]?.textContent ?? '';
    void act('invite', (ask, c) => ask('conversation:invite', { conversationId: c.id, agentId })).then((c) => {
      if (c) host.status.info(`Invited ${label}.`);
    });
  });
  ui.transfer.addEventListener('click', () => {
    const [kind, id] = ui.transferTarget.value.split(':');
    const note = ui.transferNote.value.trim();
    if (!id) return;
    const to = kind === 'queue' ? { queueId: id } : { agentId: id };
    void act('transfer', (ask, c) => ask('conversation:transfer', { conversationId: c.id, to, note, clientId: clientId() })).then((c) => {
      if (!c) return;
      ui.transferNote.value = '';
      host.upsert(c);
      host.status.info('Conversation transferred.');
    });
  });
  const store = (event: 'note:add' | 'notice:send') => {
    const text = ui.noteText.value.trim();
    if (!text) return;
    void act(event === 'note:add' ? 'add the note' : 'send the notice', (ask, c) => ask(event, { conversationId: c.id, text, clientId: clientId() })).then((m) => {
      if (m && ui.noteText.value.trim() === text) ui.noteText.value = '';
    });
  };
  ui.noteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    store('note:add');
  });
  ui.sendNotice.addEventListener('click', () => store('notice:send'));

  return {
    /** The session started (or reconnected): load the directory; supervisors see the panel. */
    start() {
      ui.panel.hidden = !isSupervisor();
      refresh();
    },
    clear() {
      participants = [];
      renderParticipants();
      ui.panel.hidden = true;
      ui.alertList.replaceChildren();
      ui.alerts.hidden = true;
      invited.clear();
    },
    /** Whether a pushed conversation belongs in this (non-supervisor) agent's list. */
    sharedWithMe(c: ConversationView, me: AgentView): boolean {
      return c.participantIds.includes(me.id) || invited.has(c.id);
    },
    /** Whether opening the conversation should join it (an invitation not yet taken up). */
    joinOnOpen(c: ConversationView | undefined, me: AgentView): boolean {
      return c !== undefined && invited.has(c.id) && c.agentId !== me.id && !c.participantIds.includes(me.id);
    },
    /** A conversation the server listed for this agent: one they neither hold nor share is an invitation. */
    listed(c: ConversationView, me: AgentView) {
      if (!roleAtLeast(me.role, 'supervisor') && c.agentId !== me.id && !c.participantIds.includes(me.id)) invited.add(c.id);
    },
    joined(id: string) {
      invited.delete(id);
    },
    /** The open conversation changed (or another was opened). */
    render() {
      render();
      renderPanel();
    },
    participants(update: { conversationId: string; participants: ParticipantView[] }) {
      if (update.conversationId !== host.current()?.id) return;
      participants = update.participants;
      renderParticipants();
    },
    invited(invitation: { conversation: ConversationView; by: string }) {
      invited.add(invitation.conversation.id);
      host.upsert(invitation.conversation);
      host.status.info(`${invitation.by} invited you to a conversation with ${invitation.conversation.contact.display}.`);
      if ('Notification' in window && Notification.permission === 'granted') {
        new Notification('Lifeline: invitation', { body: `${invitation.by} invited you: ${invitation.conversation.contact.display}`, tag: `invite-${invitation.conversation.id}` });
      }
    },
    /** A conversation escalated: supervisors get an alert on the page and a browser notification. */
    escalated(payload: { conversation: ConversationView; reason: string; at: string }) {
      if (!isSupervisor()) return;
      const c = payload.conversation;
      host.upsert(c);
      const text = `Escalated: ${c.contact.display} · ${channelLabel(c)} · priority ${c.priority} — ${payload.reason}`;
      const open = el('button', { class: 'btn btn-small', text: 'Open', testid: 'alert-open', attrs: { type: 'button' } });
      open.addEventListener('click', () => void host.open(c.id));
      const dismiss = el('button', { class: 'btn btn-small btn-quiet', text: 'Dismiss', testid: 'alert-dismiss', attrs: { type: 'button' } });
      const item = el('li', { class: 'alert-item', testid: 'escalation-alert', attrs: { 'data-conversation-id': c.id } }, [
        el('time', { text: formatTime(payload.at), attrs: { datetime: payload.at } }),
        el('span', { class: 'alert-text', text, testid: 'alert-text' }),
        open,
        dismiss,
      ]);
      dismiss.addEventListener('click', () => {
        item.remove();
        ui.alerts.hidden = ui.alertList.children.length === 0;
      });
      ui.alertList.prepend(item);
      ui.alerts.hidden = false;
      if ('Notification' in window && Notification.permission === 'granted') {
        const note = new Notification('Lifeline: escalation', { body: text, tag: `escalated-${c.id}`, requireInteraction: true });
        note.onclick = () => {
          window.focus();
          void host.open(c.id);
        };
      }
    },
    /** Agents' presence or load may have changed. */
    refresh,
    panel: renderPanel,
  };
}
