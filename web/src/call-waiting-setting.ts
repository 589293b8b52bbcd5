/**
 * The "Call waiting" checkbox (docs/spec.md §14 "Call waiting"): shows the user's setting as the
 * server has it and changes it there; off, a call while in a call is busy for its caller.
 */
import type { Api } from "./api.ts";

/** Binds the checkbox to the user's setting; errors go to `onError` (the page's banner, in words). */
export async function bindCallWaitingSetting(
  api: Api,
  box: HTMLInputElement,
  onError: (e: unknown) => void,
  announce: (text: string) => void,
): Promise<void> {
  box.onchange = async () => {
    box.disabled = true;
    try {
      const { settings } = await api.settings.updateCallSettings({ callWaiting: box.checked });
      box.checked = settings?.callWaiting ?? box.checked;
      announce(box.checked ? "Call waiting on." : "Call waiting off: callers hear you are busy.");
    } catch (e) {
      box.checked = !box.checked;
      onError(e);
    } finally {
      box.disabled = false;
    }
  };
  try {
    const { settings } = await api.settings.getCallSettings({});
    box.checked = settings?.callWaiting ?? true;
    box.disabled = false;
  } catch (e) {
    onError(e);
  }
}
