/**
 * A Deno.serve answering every request with a body of BODY_BYTES bytes and FIELDS extra fields of ≈ 30 bytes:
 * what a response's size and field count cost Deno.serve itself (bench/README.md, "Pipeline diet, sixth
 * step"). `push` (the default) appends the fields through field_list.ts as the proxy does, `init` passes them
 * as `HeadersInit`, `stream` sends the body as a one-chunk ReadableStream (chunked). Load it with
 * `wrk -t1 -c32`; count its sends with `perf stat -e syscalls:sys_enter_sendto -p PID -- sleep 3`.
 *
 *   deno run --allow-net bench/response_shape.ts PORT BODY_BYTES FIELDS [push|init|stream]
 */
import { appendField, fieldList } from "../src/proxy/field_list.ts";

const port = Number(Deno.args[0] ?? 8090);
const text = "x".repeat(Number(Deno.args[1] ?? 1024));
const count = Number(Deno.args[2] ?? 0);
const mode = Deno.args[3] ?? "push";
const fields: Array<[string, string]> = Array.from(
  { length: count },
  (_, i) => [`x-field-${i}`, `value-${i}-abcdefgh`],
);
const bytes = new TextEncoder().encode(text);

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, () => {
  if (mode === "stream") {
    return new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      }),
    );
  }
  if (count === 0) return new Response(text);
  if (mode === "init") return new Response(text, { headers: fields });
  const response = new Response(text, { status: 200 });
  const list = fieldList(response.headers);
  if (list !== undefined) list.length = 0; // Deno's own text/plain Content-Type
  for (const [name, value] of fields) appendField(response.headers, list, name, value);
  return response;
});
