// Client-side glue for rivendell.components.shortcut. No dependencies beyond React.
import { useEffect, useRef } from "react";

/**
 * Renders nothing. Calls `onPress()` when Ctrl+Enter (Cmd+Enter on a Mac) is pressed anywhere
 * on the page, the code editor included: the listener runs in the capture phase, before Monaco
 * turns the keys into "insert line below", and keeps them from reaching it.
 */
export function Shortcut({ enabled = true, onPress }) {
  const press = useRef(onPress);
  press.current = onPress;

  useEffect(() => {
    if (!enabled) return undefined;
    const onKeyDown = (event) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.repeat) return;
      event.preventDefault();
      event.stopPropagation();
      if (typeof press.current === "function") press.current();
    };
    window.addEventListener("keydown", onKeyDown, true);
    return () => window.removeEventListener("keydown", onKeyDown, true);
  }, [enabled]);

  return null;
}
