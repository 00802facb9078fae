// Client-side glue for rivendell.components.elapsed. No dependencies beyond React.
import React, { useEffect, useState } from "react";

/**
 * Seconds since `sinceMs` (a Unix time in milliseconds, from the server), with one decimal,
 * redrawn ten times a second. Never negative: a clock a little behind the server's shows 0.0 s.
 */
export function Elapsed({ sinceMs, ...rest }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, (now - Number(sinceMs || now)) / 1000);
  return <span {...rest}>{seconds.toFixed(1)} s</span>;
}
