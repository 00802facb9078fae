// Client-side glue for rivendell.components.heartbeat. No dependencies beyond React.
import { useEffect, useRef } from "react";

/**
 * Renders nothing. Calls `onBeat()` once on mount, every `intervalMs` while mounted,
 * and right away when the page becomes visible again (hidden tabs get throttled timers,
 * so a returning user should not wait for the next tick to be seen as present).
 */
export function Heartbeat({ intervalMs = 4000, onBeat }) {
  // Reflex passes a new callback on every render; keep the latest without restarting the timer.
  const beat = useRef(onBeat);
  beat.current = onBeat;

  useEffect(() => {
    const fire = () => {
      if (typeof beat.current === "function") beat.current();
    };
    const period = Math.max(250, Number(intervalMs) || 4000);
    let timer = setInterval(fire, period);
    const onVisibility = () => {
      if (document.visibilityState !== "visible") return;
      fire();
      // Restart so the next regular beat is a full period after this one.
      clearInterval(timer);
      timer = setInterval(fire, period);
    };
    document.addEventListener("visibilitychange", onVisibility);
    fire();
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [intervalMs]);

  return null;
}
