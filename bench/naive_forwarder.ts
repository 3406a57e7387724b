/** The floor: the simplest possible Deno fetch forwarder (no header hygiene, no timeouts). */
const [listen, target] = [Number(Deno.args[0]), Deno.args[1]!];
Deno.serve({ hostname: "127.0.0.1", port: listen, onListen() {} }, (req) => {
  const url = new URL(req.url);
  return fetch(target + url.pathname + url.search, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    redirect: "manual",
  });
});
