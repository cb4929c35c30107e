// Proves invitegw as an Apollo Federation v2 subgraph with the tools supergraph owners run,
// and audits its GraphQL over HTTP:
//
//   1. starts invitegw -demo on a free port (binary from $INVITEGW_BIN, built by `make e2e`);
//   2. starts a tiny `users` subgraph (@apollo/subgraph) owning User @key(fields: "email");
//   3. composes both with @apollo/composition: zero errors required;
//   4. serves the supergraph with @apollo/gateway and with the Hive Gateway runtime
//      (@graphql-hive/gateway-runtime, the engine of @graphql-hive/gateway) and checks that both
//      give the exact expected answers;
//   5. runs graphql-http's auditServer against invitegw: every case must pass, so an error, a
//      warning (a SHOULD) or a notice (a MAY) fails the run.
//
// Exits non-zero on any mismatch. `node run.mjs --update` rewrites expected/*.json.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { composeServices } from "@apollo/composition";
import { ApolloGateway } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";
import { parse } from "graphql";
import { auditServer } from "graphql-http";

const here = dirname(fileURLToPath(import.meta.url));
const update = process.argv.includes("--update");
const bin = process.env.INVITEGW_BIN || join(here, ".bin", "invitegw");
let failures = 0;
const cleanups = [];

function fail(msg) {
  failures++;
  console.error(`FAIL ${msg}`);
}

function ok(msg) {
  console.log(`ok   ${msg}`);
}

// startInvitegw runs the demo on a port the OS picks and resolves with its GraphQL URL.
function startInvitegw() {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["-demo", "-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    cleanups.push(() => child.kill("SIGTERM"));
    const timer = setTimeout(() => reject(new Error("invitegw did not print its URL within 30s")), 30_000);
    child.on("exit", (code) => reject(new Error(`invitegw exited early with ${code}`)));
    child.stderr.resume(); // access log: not needed here
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/^GraphQL:\s+(http:\/\/\S+\/graphql)$/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

// The users subgraph: another team's service that owns people. Two of them were invited on
// several platforms in the demo data; one was never invited.
const people = [
  { email: "ada.lovelace@acme.test", name: "Ada Lovelace" },
  { email: "grace.hopper@acme.test", name: "Grace Hopper" },
  { email: "nobody@acme.test", name: "No Invitations" },
];
const usersTypeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { users: [User!]! }
  type User @key(fields: "email") { email: String! name: String }
`);
const usersResolvers = {
  Query: { users: () => people },
  User: {
    __resolveReference: (ref) =>
      people.find((p) => p.email === ref.email.toLowerCase()) ?? { email: ref.email, name: null },
  },
};

async function startServer(options) {
  const server = new ApolloServer(options);
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: "127.0.0.1" } });
  cleanups.push(() => server.stop());
  return url;
}

// startHive serves the supergraph with the Hive Gateway runtime on a free port. Errors are not
// masked, so a failure shows the subgraph's message instead of "Unexpected error.".
async function startHive(supergraph) {
  const gateway = createGatewayRuntime({ supergraph, logging: false, maskedErrors: false });
  const server = createServer(gateway);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.dispose();
  });
  return `http://127.0.0.1:${server.address().port}${gateway.graphqlEndpoint}`;
}

async function gql(url, query, variables) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  return { status: res.status, body };
}

// expect compares an answer with expected/<name>.json (or writes it with --update). Errors are
// compared sorted by path: entities resolve concurrently, so their errors come in any order.
function expect(name, got, via) {
  const label = via ? `${name} (${via})` : name;
  if (Array.isArray(got.errors)) {
    got.errors.sort((a, b) => JSON.stringify(a.path).localeCompare(JSON.stringify(b.path)));
  }
  const file = join(here, "expected", `${name}.json`);
  if (update) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(got, null, 2) + "\n");
    ok(`${label}: expected/${name}.json written`);
    return;
  }
  const want = JSON.parse(readFileSync(file, "utf8"));
  if (isDeepStrictEqual(got, want)) {
    ok(label);
  } else {
    fail(`${label}: answer differs from expected/${name}.json\n got: ${JSON.stringify(got)}\nwant: ${JSON.stringify(want)}`);
  }
}

async function main() {
  const started = Date.now();
  const invitegwURL = await startInvitegw();
  ok(`invitegw -demo at ${invitegwURL}`);
  const usersURL = await startServer({ schema: buildSubgraphSchema({ typeDefs: usersTypeDefs, resolvers: usersResolvers }) });

  // 1. Composition.
  const sdl = (await gql(invitegwURL, "{ _service { sdl } }")).body.data._service.sdl;
  const composed = composeServices([
    { name: "invitegw", typeDefs: parse(sdl), url: invitegwURL },
    { name: "users", typeDefs: usersTypeDefs, url: usersURL },
  ]);
  if (composed.errors?.length) {
    fail(`composition: ${composed.errors.map((e) => e.message).join("; ")}`);
    return;
  }
  ok(`composition: 0 errors${composed.hints?.length ? `, ${composed.hints.length} hints` : ""}`);

  // 2. Real gateways over the supergraph: Apollo's, and Hive's. Both must give the same answers.
  const gateways = [
    ["@apollo/gateway", await startServer({ gateway: new ApolloGateway({ supergraphSdl: composed.supergraphSdl }) })],
    ["@graphql-hive/gateway-runtime", await startHive(composed.supergraphSdl)],
  ];
  for (const [name, gatewayURL] of gateways) {
    ok(`${name} at ${gatewayURL}`);

    // 3. Queries across both subgraphs.
    const users = await gql(gatewayURL, `{ users { email name invitations { provider status organization { name } } } }`);
    expect("users-invitations", users.body, name);

    const pending = await gql(gatewayURL, `{ users { email invitations(status: [PENDING]) { provider } } }`);
    expect("users-pending-invitations", pending.body, name);

    // Starts at invitegw and crosses into users for the name.
    const crossing = await gql(gatewayURL, `query($email: String!) {
      invitations(filter: { email: $email }) { totalCount nodes { provider email user { email name } } }
    }`, { email: "ADA.LOVELACE@acme.test" });
    expect("invitations-to-users", crossing.body, name);
  }

  // An entity fetch that misses: the gateway gets null plus an error for that entity only.
  const entities = await gql(invitegwURL, `query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Organization { id name } ... on User { email invitations { provider } } } }`, {
    r: [
      { __typename: "Organization", id: "elastic:1004245913" },
      { __typename: "Organization", id: "elastic:404" },
      { __typename: "User", email: "grace.hopper@acme.test" },
      { __typename: "Invitation" },
    ],
  });
  expect("entities", entities.body);

  // 4. GraphQL over HTTP audit.
  const results = await auditServer({ url: invitegwURL });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  for (const r of results) {
    counts[r.status] = (counts[r.status] ?? 0) + 1;
    if (r.status !== "ok") console.log(`     ${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
  }
  const summary = `graphql-http audit: ${counts.ok} ok, ${counts.notice} notices, ${counts.warn} warnings, ${counts.error} failures of ${results.length}`;
  if (counts.ok !== results.length) fail(summary);
  else ok(summary);

  console.log(`e2e finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

try {
  await main();
} catch (err) {
  fail(err.stack || String(err));
} finally {
  for (const c of cleanups.reverse()) await c();
}
console.log(failures ? `${failures} failed` : "all passed");
process.exit(failures ? 1 : 0);
