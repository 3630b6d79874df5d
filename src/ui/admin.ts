/**
 * The administrator page (`/admin`): channel links with their live status,
 * agents, queues (timers, texts, business hours), routing rules, canned
 * replies and emergency contacts, over the admin API. Link status refreshes
 * on `link:status` pushes and by polling, since a link coming up the first
 * time is not pushed.
 */
import { ROLES } from '../domain/types.ts';
import type { LinkStatus } from '../channel.ts';
import { api, type Field } from './admin-form.ts';
import { hoursEditor, type OpeningHours } from './admin-hours.ts';
import { LINK_CHANNELS, linkFields } from './admin-link-fields.ts';
import { section, type Section } from './admin-section.ts';
import { byId, el } from './dom.ts';
import { staffPage, type StaffSession } from './staff-page.ts';

interface Named {
  id: string;
  name: string;
}
interface Link extends Named {
  channel: string;
  settings: Record<string, unknown>;
  secretsSet: string[];
  enabled: boolean;
  runner: { holder: string; status: Partial<LinkStatus> } | null;
}
interface Agent {
  id: string;
  username: string;
  displayName: string;
  role: string;
  presence: string;
  capacity: number;
  queueIds: string[];
  email: string | null;
  phone: string | null;
  disabled: boolean;
}
interface Queue extends Named {
  openingHours: OpeningHours | null;
  answerTargetSeconds: number;
}
interface Rule extends Named {
  kind: string;
  terms: string[];
  priority: number;
  queueId: string | null;
  enabled: boolean;
}
interface Canned {
  id: string;
  title: string;
  language: string;
  body: string;
}
interface Contact extends Named {
  email: string;
  queueId: string | null;
  agentId: string | null;
}

const LINK_POLL_MS = 3000;
const box = byId('sections', HTMLDivElement);
let session: StaffSession | undefined;
let links: Section<Link> | undefined;
let all: Array<Section<never>> = [];
const token = () => session?.token;
const say = (text: string, error = false) => (error ? status.error(text) : status.info(text));
const opts = (values: readonly string[]) => values.map((v) => ({ value: v, label: v }));

function linkStatus(link: Link): HTMLElement {
  const s = link.runner?.status;
  const state = !link.enabled ? 'stopped' : (s?.state ?? 'starting');
  return el('span', { class: `link-state state-${state}`, text: state, testid: 'link-state', attrs: { 'data-state': state } });
}

function counters(link: Link): HTMLElement {
  const c = link.runner?.status?.counters ?? {};
  const entries = Object.entries(c).filter(([, n]) => typeof n === 'number');
  return el(
    'ul',
    { class: 'counters', testid: 'link-counters' },
    entries.map(([k, n]) => el('li', { attrs: { 'data-counter': k } }, [el('span', { class: 'counter-name', text: k }), ` ${n}`])),
  );
}

function linkActions(link: Link, reload: () => Promise<void>): HTMLElement[] {
  const action = link.enabled ? 'stop' : 'start';
  const button = el('button', { class: 'btn btn-small', text: link.enabled ? 'Stop' : 'Start', attrs: { type: 'button', 'aria-label': `${link.enabled ? 'Stop' : 'Start'} ${link.name}` }, testid: `link-${action}` });
  button.addEventListener('click', () => {
    void (async () => {
      const t = token();
      if (!t) return;
      const res = await api('POST', `/api/links/${link.id}/${action}`, t);
      if (!res.ok) say(`Could not ${action} ${link.name}: ${res.message}`, true);
      await reload();
    })();
  });
  return [button];
}

function build(queues: Queue[], agents: Agent[]): void {
  const queueOptions = queues.map((q) => ({ value: q.id, label: q.name }));
  const queueName = (id: string | null) => queues.find((q) => q.id === id)?.name ?? '—';
  const none = { value: '', label: '—' };

  links = section<Link>(
    {
      key: 'links',
      title: 'Channel links',
      list: { path: '/api/links', prop: 'links' },
      createPath: '/api/links',
      patchPath: (l) => `/api/links/${l.id}`,
      deletePath: (l) => `/api/links/${l.id}`,
      idOf: (l) => l.id,
      nameOf: (l) => l.name,
      columns: [
        { label: 'Name', cell: (l) => l.name },
        { label: 'Channel', cell: (l) => l.channel },
        { label: 'State', cell: linkStatus },
        { label: 'Last error', cell: (l) => el('span', { text: l.runner?.status?.lastError ?? '', testid: 'link-error' }) },
        { label: 'Counters', cell: counters },
        { label: 'Secrets set', cell: (l) => l.secretsSet.join(', ') || 'none' },
      ],
      fields: (mode, draft) => {
        const channel = typeof draft.channel === 'string' ? draft.channel : 'sms';
        const settings = (draft.settings ?? {}) as Record<string, unknown>;
        return [
          { path: 'channel', label: 'Channel', kind: 'select', options: LINK_CHANNELS },
          { path: 'name', label: 'Name' },
          ...linkFields(channel, String(settings.mode ?? 'client'), mode === 'edit'),
          ...(mode === 'create' ? [{ path: 'enabled', label: 'Start now', kind: 'checkbox' } satisfies Field] : []),
        ];
      },
      defaults: { channel: 'sms', enabled: true, settings: { mode: 'client', bindMode: 'transceiver' } },
      rebuildOn: ['channel', 'settings.mode'],
      fieldPaths: (f) => (f === 'settings' || f === 'secrets' || f.startsWith('settings.') || f.startsWith('secrets.') ? [f] : [f, `settings.${f}`, `secrets.${f}`]),
      actions: linkActions,
    },
    token,
    say,
  );

  const agentFields = (mode: 'create' | 'edit'): Field[] => [
    ...(mode === 'create' ? [{ path: 'username', label: 'Username' } satisfies Field] : []),
    { path: 'displayName', label: 'Display name' },
    { path: 'password', label: mode === 'create' ? 'Password (12 characters or more)' : 'New password', kind: 'password', optional: mode === 'edit' },
    { path: 'role', label: 'Role', kind: 'select', options: opts(ROLES) },
    { path: 'capacity', label: 'Capacity (conversations at once)', kind: 'number', step: '1', optional: true },
    { path: 'queueIds', label: 'Queues', kind: 'checkboxes', options: queueOptions },
    { path: 'email', label: 'E-mail for alerts', kind: 'email', nullable: mode === 'edit', optional: mode === 'create' },
    { path: 'phone', label: 'Phone for alerts', kind: 'tel', nullable: mode === 'edit', optional: mode === 'create' },
    { path: 'skills', label: 'Skills (comma separated)', kind: 'list' },
    { path: 'languages', label: 'Languages (comma separated)', kind: 'list' },
    ...(mode === 'edit' ? [{ path: 'disabled', label: 'Disabled (cannot sign in or take conversations)', kind: 'checkbox' } satisfies Field] : []),
  ];
  const agentSection = section<Agent>(
    {
      key: 'agents',
      title: 'Agents',
      list: { path: '/api/agents', prop: 'agents' },
      createPath: '/api/agents',
      patchPath: (a) => `/api/agents/${a.id}`,
      idOf: (a) => a.id,
      nameOf: (a) => a.username,
      columns: [
        { label: 'Username', cell: (a) => a.username },
        { label: 'Name', cell: (a) => a.displayName },
        { label: 'Role', cell: (a) => a.role },
        { label: 'Presence', cell: (a) => a.presence },
        { label: 'Capacity', cell: (a) => String(a.capacity) },
        { label: 'Queues', cell: (a) => a.queueIds.map(queueName).join(', ') },
        { label: 'Contact', cell: (a) => [a.email, a.phone].filter(Boolean).join(' · ') },
        { label: 'Status', cell: (a) => (a.disabled ? 'disabled' : 'active') },
      ],
      fields: (mode) => agentFields(mode),
    },
    token,
    say,
  );

  const hours = hoursEditor();
  const num = (path: string, label: string, step = '1'): Field => ({ path, label, kind: 'number', step, optional: true });
  const text = (path: string, label: string): Field => ({ path, label, kind: 'textarea', optional: true });
  const queueSection = section<Queue>(
    {
      key: 'queues',
      title: 'Queues',
      list: { path: '/api/queues', prop: 'queues' },
      createPath: '/api/queues',
      patchPath: (q) => `/api/queues/${q.id}`,
      idOf: (q) => q.id,
      nameOf: (q) => q.name,
      columns: [
        { label: 'Name', cell: (q) => q.name },
        { label: 'Answer target', cell: (q) => `${q.answerTargetSeconds} s` },
        { label: 'Hours', cell: (q) => (q.openingHours ? `${Object.keys(q.openingHours.days).join(', ') || 'closed'} (${q.openingHours.timeZone})` : 'always open') },
      ],
      fields: () => [
        { path: 'name', label: 'Name' },
        { path: 'description', label: 'Description', kind: 'textarea' },
        num('answerTargetSeconds', 'Answer target (seconds)'),
        num('offerTimeoutSeconds', 'Offer timeout (seconds)'),
        num('maxWaiting', 'Waiting at most'),
        num('callbackWindowMinutes', 'Callback window (minutes, 0 off)', 'any'),
        num('inactivityMinutes', 'Close after inactivity (minutes)', 'any'),
        num('missedOffersBeforeAway', 'Missed offers before away'),
        text('acknowledgementText', 'Acknowledgement (sent on accept)'),
        text('escalationText', 'Escalation instruction'),
        text('bounceBackText', 'Bounce-back (no agent can take texts)'),
        text('inactivityText', 'Inactivity close notice'),
        text('emergencyContactTemplate', 'Emergency contact e-mail template'),
      ],
      extra: hours,
    },
    token,
    say,
  );

  const ruleSection = section<Rule>(
    {
      key: 'rules',
      title: 'Routing rules',
      list: { path: '/api/rules', prop: 'rules' },
      createPath: '/api/rules',
      defaults: { enabled: true, priority: 0, kind: 'keyword' },
      idOf: (r) => r.id,
      nameOf: (r) => r.name,
      columns: [
        { label: 'Name', cell: (r) => r.name },
        { label: 'Kind', cell: (r) => r.kind },
        { label: 'Terms', cell: (r) => r.terms.join(', ') },
        { label: 'Priority', cell: (r) => String(r.priority) },
        { label: 'Queue', cell: (r) => queueName(r.queueId) },
        { label: 'Enabled', cell: (r) => (r.enabled ? 'yes' : 'no') },
      ],
      fields: () => [
        { path: 'name', label: 'Name' },
        { path: 'kind', label: 'Kind', kind: 'select', options: opts(['keyword', 'channel', 'repeat_contact']) },
        { path: 'terms', label: 'Terms (keywords or channels, comma separated)', kind: 'list' },
        num('windowSeconds', 'Window (seconds, repeat contact)'),
        { path: 'priority', label: 'Priority (-1000 to 1000)', kind: 'number', step: '1' },
        { path: 'queueId', label: 'Route to queue', kind: 'select', options: [none, ...queueOptions], nullable: true },
        num('position', 'Position'),
        { path: 'enabled', label: 'Enabled', kind: 'checkbox' },
      ],
    },
    token,
    say,
  );

  const cannedSection = section<Canned>(
    {
      key: 'canned',
      title: 'Canned replies',
      list: { path: '/api/canned-replies', prop: 'cannedReplies' },
      createPath: '/api/canned-replies',
      patchPath: (c) => `/api/canned-replies/${c.id}`,
      deletePath: (c) => `/api/canned-replies/${c.id}`,
      idOf: (c) => c.id,
      nameOf: (c) => c.title,
      columns: [
        { label: 'Title', cell: (c) => c.title },
        { label: 'Language', cell: (c) => c.language },
        { label: 'Text', cell: (c) => c.body },
      ],
      fields: () => [
        { path: 'title', label: 'Title' },
        { path: 'language', label: 'Language', optional: true, hint: 'en when empty' },
        { path: 'body', label: 'Text', kind: 'textarea' },
        num('position', 'Position'),
      ],
    },
    token,
    say,
  );

  const contactSection = section<Contact>(
    {
      key: 'contacts',
      title: 'Emergency contacts',
      list: { path: '/api/emergency-contacts', prop: 'emergencyContacts' },
      createPath: '/api/emergency-contacts',
      deletePath: (c) => `/api/emergency-contacts/${c.id}`,
      idOf: (c) => c.id,
      nameOf: (c) => c.name,
      columns: [
        { label: 'Name', cell: (c) => c.name },
        { label: 'E-mail', cell: (c) => c.email },
        { label: 'Of', cell: (c) => (c.queueId ? `queue ${queueName(c.queueId)}` : `agent ${agents.find((a) => a.id === c.agentId)?.username ?? '?'}`) },
      ],
      fields: () => [
        { path: 'name', label: 'Name' },
        { path: 'email', label: 'E-mail', kind: 'email' },
        { path: 'queueId', label: 'Of queue', kind: 'select', options: [none, ...queueOptions], optional: true },
        { path: 'agentId', label: 'or of agent', kind: 'select', options: [none, ...agents.map((a) => ({ value: a.id, label: a.username }))], optional: true },
      ],
    },
    token,
    say,
  );

  all = [links, agentSection, queueSection, ruleSection, cannedSection, contactSection] as unknown as Array<Section<never>>;
  box.replaceChildren(...all.map((s) => s.node));
}

async function load(s: StaffSession): Promise<void> {
  const [queues, agents] = await Promise.all([api<{ queues: Queue[] }>('GET', '/api/queues', s.token), api<{ agents: Agent[] }>('GET', '/api/agents', s.token)]);
  if (session !== s) return;
  if (!queues.ok || !agents.ok) {
    say(`Could not load the settings: ${!queues.ok ? queues.message : !agents.ok ? agents.message : ''}`, true);
    return;
  }
  // Rebuilding would throw away a half-filled form: build once per sign-in, then only reload the tables.
  if (all.length === 0) build(queues.data.queues, agents.data.agents);
  await Promise.all(all.map((section) => section.reload()));
  document.body.dataset.loaded = 'true';
}

const status = staffPage({
  role: 'admin',
  name: 'admin page',
  start(s) {
    session = s;
    s.socket.on('link:status', () => void links?.reload());
  },
  connected: (s) => void load(s),
  stop() {
    session = undefined;
    links = undefined;
    all = [];
    box.replaceChildren();
  },
});

setInterval(() => {
  if (session && links && document.visibilityState === 'visible') void links.reload();
}, LINK_POLL_MS);
