/**
 * The "Blocked callers" card (docs/spec.md §14 "Blocking"): block a user by id, see the list
 * (most recent first), unblock with one click. Errors go to the page's banner in words.
 */
import type { Api } from "./api.ts";

/** The DOM the card lives in. */
export interface BlockElements {
  readonly form: HTMLFormElement;
  readonly input: HTMLInputElement;
  readonly list: HTMLUListElement;
  readonly empty: HTMLElement;
}

/** A block list bound to its card. */
export interface BlockView {
  /** Reloads the list. */
  refresh(): Promise<void>;
}

/** Binds the card; `announce` says a change out loud (screen readers). */
export function createBlockView(
  api: Api,
  el: BlockElements,
  onError: (e: unknown) => void,
  announce: (text: string) => void,
): BlockView {
  function item(userId: string): HTMLLIElement {
    const li = document.createElement("li");
    li.dataset.user = userId;
    const name = document.createElement("span");
    name.textContent = userId;
    const unblock = document.createElement("button");
    unblock.type = "button";
    unblock.className = "unblock";
    unblock.textContent = "Unblock";
    unblock.setAttribute("aria-label", `Unblock ${userId}`);
    unblock.onclick = async () => {
      try {
        await api.blocks.unblockUser({ userId });
        announce(`${userId} is unblocked.`);
        await refresh();
      } catch (e) {
        onError(e);
      }
    };
    li.append(name, unblock);
    return li;
  }

  async function refresh(): Promise<void> {
    try {
      const { users } = await api.blocks.listBlockedUsers({});
      el.list.replaceChildren(...users.map((u) => item(u.userId)));
      el.empty.hidden = users.length > 0;
    } catch (e) {
      onError(e);
    }
  }

  el.form.onsubmit = async (ev) => {
    ev.preventDefault();
    const userId = el.input.value.trim();
    if (!userId) return;
    try {
      await api.blocks.blockUser({ userId });
      el.input.value = "";
      announce(`${userId} is blocked: their calls will not ring.`);
      await refresh();
    } catch (e) {
      onError(e);
    }
  };

  return { refresh };
}
