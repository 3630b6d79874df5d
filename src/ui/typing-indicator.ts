/**
 * "… is typing" lines. Each typer expires on its own after a while, so a
 * lost "stopped typing" event cannot leave the indicator on for ever.
 */

export interface TypingIndicator {
  /** Applies one typing event. */
  set(who: string, typing: boolean): void;
  /** Forgets one typer (e.g. their message arrived). */
  clear(who: string): void;
  /** Forgets everyone (e.g. another conversation was opened). */
  reset(): void;
}

/** An indicator writing `describe(typers)` into `node` ('' when nobody types). */
export function typingIndicator(node: HTMLElement, describe: (who: string[]) => string, expireMs = 8000): TypingIndicator {
  const typers = new Map<string, ReturnType<typeof setTimeout>>();
  const render = () => {
    const who = [...typers.keys()];
    node.textContent = who.length === 0 ? '' : describe(who);
  };
  const clear = (who: string) => {
    const timer = typers.get(who);
    if (timer) clearTimeout(timer);
    if (typers.delete(who)) render();
  };
  return {
    set(who, typing) {
      clear(who);
      if (!typing) return;
      typers.set(who, setTimeout(() => clear(who), expireMs));
      render();
    },
    clear,
    reset() {
      for (const timer of typers.values()) clearTimeout(timer);
      typers.clear();
      render();
    },
  };
}
