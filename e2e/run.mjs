// Proves invitegw as an Apollo Federation v2 subgraph with the tools supergraph owners run,
// open and behind its own JWT authentication, and audits its GraphQL over HTTP:
//
//   1. starts two invitegw -demo processes on free ports (binary from $INVITEGW_BIN, built by
//      `make e2e`): one open (no authentication configured) and one with INVITEGW_JWT_* set. For
//      the latter it generates an RSA key pair (node:crypto), serves the public key as a JWKS
//      (kid, alg, use: sig) from a node:http server on a free port, and mints RS256 tokens itself:
//      a reader (scope "invitations:read") and a caller without scopes (scope ""), both with a
//      valid iss, aud, sub and exp;
//   2. asks the authenticated invitegw directly, with no token, the scope-less token and the
//      reader's, and checks its status, WWW-Authenticate and answer (expected/auth-direct.json);
//   3. starts a tiny `users` subgraph (@apollo/subgraph) owning User @key(fields: "email");
//   4. composes users with each invitegw (the authenticated one's _service { sdl } fetched with the
//      reader's token) with @apollo/composition: zero errors required, both supergraphs the same
//      but for invitegw's URL, and the @requiresScopes of invitegw's SDL all in the supergraph
//      (expected/supergraph-requires-scopes.json);
//   5. serves each supergraph with @apollo/gateway and with the Hive Gateway runtime
//      (@graphql-hive/gateway-runtime, the engine of @graphql-hive/gateway), both forwarding the
//      client's Authorization header to invitegw. @apollo/gateway refuses a supergraph that links
//      requiresScopes "for: SECURITY" (it cannot enforce it): the run checks that refusal, then
//      gives it the supergraph with that link's purpose dropped, since invitegw enforces the
//      scopes itself. Over the open invitegw both gateways must give the exact expected answers;
//      over the authenticated one the reader must get those same answers, and the scope-less
//      caller (FORBIDDEN, with requiredScopes) and a caller without a token (invitegw's 401,
//      UNAUTHENTICATED) exactly what each gateway makes of invitegw's refusal: both answer HTTP
//      200 with the refused fields null, each wording and placing the error its own way
//      (expected/{scopeless,anonymous}-{root,entities}.<gateway>.json);
//   6. runs graphql-http's auditServer against the open invitegw: every case must pass, so an
//      error, a warning (a SHOULD) or a notice (a MAY) fails the run.
//
// Exits non-zero on any mismatch. `node run.mjs --update` rewrites expected/*.json.
import { spawn } from "node:child_process";
import { generateKeyPairSync, sign } from "node:crypto";
import { createServer } from "node:http";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
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

// startInvitegw runs the demo on a port the OS picks, with env added to (or, when a value is
// undefined, removed from) the environment, and resolves with its GraphQL URL.
function startInvitegw(env = {}) {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete childEnv[k];
      else childEnv[k] = v;
    }
    const child = spawn(bin, ["-demo", "-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
    cleanups.push(() => child.kill("SIGTERM"));
    const timer = setTimeout(() => reject(new Error("invitegw did not print its URL within 30s")), 30_000);
    // The access log is not needed, but its end tells why a process exited early.
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    child.on("exit", (code) => reject(new Error(`invitegw exited early with ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/^GraphQL:\s+(http:\/\/\S+\/graphql)$/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

// The identity provider: an RSA key whose public half a JWKS endpoint serves, and tokens signed
// with its private half (RS256), made here with node:crypto rather than a JWT library.
const issuer = "https://idp.e2e.invitegw.test/";
const audience = "invitegw-e2e";
const kid = "e2e-key-1";
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

async function startJWKS() {
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] });
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(jwks);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${server.address().port}/.well-known/jwks.json`;
}

function mintJWT(claims) {
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const signed = `${b64({ alg: "RS256", typ: "JWT", kid })}.${b64({ iss: issuer, aud: [audience], iat: now, exp: now + 600, ...claims })}`;
  return `${signed}.${sign("sha256", Buffer.from(signed), privateKey).toString("base64url")}`;
}

// The three callers of the authenticated invitegw, as their Authorization header.
const callers = {
  reader: `Bearer ${mintJWT({ sub: "e2e-reader", scope: "invitations:read" })}`,
  scopeless: `Bearer ${mintJWT({ sub: "e2e-scopeless", scope: "" })}`,
  anonymous: undefined,
};

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

async function startServer(options, standaloneOptions = {}) {
  const server = new ApolloServer(options);
  const { url } = await startStandaloneServer(server, { ...standaloneOptions, listen: { port: 0, host: "127.0.0.1" } });
  cleanups.push(() => server.stop());
  return url;
}

// Sends the caller's Authorization, which startApolloGateway's context holds, to invitegw.
class ForwardAuthorization extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context.authorization) request.http.headers.set("authorization", context.authorization);
  }
}

// apolloGatewaySupergraph is the supergraph as @apollo/gateway takes it. The gateway refuses a
// supergraph that links a feature "for: SECURITY" it does not implement, which requiresScopes
// is: it cannot enforce the scopes, so it will not pretend to. invitegw enforces them itself,
// so the gateway is given the link without its purpose: the directives are still there, and the
// gateway ignores them as it ignores any feature it does not know.
const securityLink = `@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)`;
function apolloGatewaySupergraph(supergraphSdl) {
  const parts = supergraphSdl.split(securityLink);
  if (parts.length !== 2) throw new Error(`the supergraph does not link requiresScopes once: ${securityLink}`);
  return parts.join(`@link(url: "https://specs.apollo.dev/requiresScopes/v0.1")`);
}

// The refusal apolloGatewaySupergraph works around, as @apollo/gateway words it: if a version
// of the gateway enforces the scopes (or words the refusal differently), this says so.
async function checkApolloGatewayRefuses(supergraphSdl) {
  const want = "feature https://specs.apollo.dev/requiresScopes/v0.1 is for: SECURITY but is unsupported";
  const gateway = new ApolloGateway({ supergraphSdl });
  try {
    await gateway.load();
    fail("@apollo/gateway loaded a supergraph with requiresScopes for: SECURITY");
  } catch (err) {
    const got = (err.causes ?? [err]).map((e) => e.message.split("\n")[0]);
    if (isDeepStrictEqual(got, [want])) ok(`@apollo/gateway refuses the supergraph as is: ${want}`);
    else fail(`@apollo/gateway refused the supergraph with ${JSON.stringify(got)}, want [${JSON.stringify(want)}]`);
  } finally {
    await gateway.stop().catch(() => {});
  }
}

// startApolloGateway serves the supergraph with @apollo/gateway on a free port, forwarding the
// client's Authorization header to invitegw.
function startApolloGateway(supergraphSdl) {
  const gateway = new ApolloGateway({
    supergraphSdl: apolloGatewaySupergraph(supergraphSdl),
    buildService: ({ name, url }) => (name === "invitegw" ? new ForwardAuthorization({ url }) : new RemoteGraphQLDataSource({ url })),
  });
  return startServer(
    { gateway, includeStacktraceInErrorResponses: false },
    { context: async ({ req }) => ({ authorization: req.headers.authorization }) },
  );
}

// startHive serves the supergraph with the Hive Gateway runtime on a free port, forwarding the
// client's Authorization header to invitegw. Errors are not masked, so a failure shows the
// subgraph's message instead of "Unexpected error.".
async function startHive(supergraph) {
  const gateway = createGatewayRuntime({
    supergraph,
    logging: false,
    maskedErrors: false,
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, subgraphName }) =>
        subgraphName === "invitegw" ? { authorization: request.headers.get("authorization") } : {},
    },
  });
  const server = createServer(gateway);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.dispose();
  });
  return `http://127.0.0.1:${server.address().port}${gateway.graphqlEndpoint}`;
}

async function gql(url, query, variables, authorization) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json, application/json" };
  if (authorization) headers.authorization = authorization;
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  return { status: res.status, headers: res.headers, body };
}

// The URLs of the processes a run starts, which change from run to run, as they stand in
// expected files (a gateway's error may quote the subgraph's URL).
const placeholders = new Map();
function stable(value) {
  let text = JSON.stringify(value);
  for (const [url, name] of placeholders) text = text.replaceAll(url, name);
  return JSON.parse(text);
}

// expect compares an answer with expected/<name>.json (or writes it with --update). Errors are
// compared sorted by path: entities resolve concurrently, so their errors come in any order.
function expect(name, got, via) {
  const label = via ? `${name} (${via})` : name;
  got = stable(got);
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
  if (!existsSync(file)) {
    fail(`${label}: expected/${name}.json is missing (node run.mjs --update writes it)\n got: ${JSON.stringify(got)}`);
    return;
  }
  const want = JSON.parse(readFileSync(file, "utf8"));
  if (isDeepStrictEqual(got, want)) {
    ok(label);
  } else {
    fail(`${label}: answer differs from expected/${name}.json\n got: ${JSON.stringify(got)}\nwant: ${JSON.stringify(want)}`);
  }
}

// requiresScopesIn lists a schema's @requiresScopes applications as "Type" or "Type.field"
// with their scopes, sorted: in a subgraph's SDL and in a supergraph alike.
function requiresScopesIn(sdl) {
  const out = {};
  const note = (coordinate, directives) => {
    for (const d of directives ?? []) {
      if (d.name.value !== "requiresScopes") continue;
      const scopes = d.arguments.find((a) => a.name.value === "scopes").value;
      out[coordinate] = scopes.values.map((group) => group.values.map((s) => s.value));
    }
  };
  for (const def of parse(sdl).definitions) {
    if (!def.name) continue;
    note(def.name.value, def.directives);
    for (const f of def.fields ?? []) note(`${def.name.value}.${f.name.value}`, f.directives);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

async function compose(invitegwURL, usersURL, authorization) {
  const res = await gql(invitegwURL, "{ _service { sdl } }", undefined, authorization);
  const sdl = res.body?.data?._service?.sdl;
  if (typeof sdl !== "string") throw new Error(`_service { sdl } from ${invitegwURL}: ${res.status} ${JSON.stringify(res.body)}`);
  const composed = composeServices([
    { name: "invitegw", typeDefs: parse(sdl), url: invitegwURL },
    { name: "users", typeDefs: usersTypeDefs, url: usersURL },
  ]);
  return { sdl, ...composed };
}

// The queries asked of the gateways. Each crosses both subgraphs.
const queries = {
  "users-invitations": [`{ users { email name invitations { provider status organization { name } } } }`],
  "users-pending-invitations": [`{ users { email invitations(status: [PENDING]) { provider } } }`],
  // Starts at invitegw and crosses into users for the name.
  "invitations-to-users": [
    `query($email: String!) {
      invitations(filter: { email: $email }) { totalCount nodes { provider email user { email name } } }
    }`,
    { email: "ADA.LOVELACE@acme.test" },
  ],
};
// What callers refused by invitegw ask: a root field of invitegw beside one of users (the
// users part still answers), and users crossing into invitegw by entity (User.invitations is
// non-null, so a refusal there nulls the whole answer).
const refusedQueries = {
  root: [`{ organization(id: "elastic:1004245913") { id name } users { email name } }`],
  entities: [`{ users { email invitations { provider } } }`],
};

async function main() {
  const started = Date.now();
  const jwksURL = await startJWKS();
  const jwtEnv = {
    INVITEGW_JWT_JWKS_URL: jwksURL,
    INVITEGW_JWT_ISSUERS: issuer,
    INVITEGW_JWT_AUDIENCES: audience,
    INVITEGW_JWT_SCOPE_CLAIM: undefined,
  };
  const openEnv = Object.fromEntries(Object.keys(jwtEnv).map((k) => [k, undefined]));
  const [openURL, authURL, usersURL] = await Promise.all([
    startInvitegw(openEnv),
    startInvitegw(jwtEnv),
    startServer({ schema: buildSubgraphSchema({ typeDefs: usersTypeDefs, resolvers: usersResolvers }) }),
  ]);
  placeholders.set(new URL(authURL).origin, "http://invitegw-jwt");
  placeholders.set(new URL(openURL).origin, "http://invitegw-open");
  ok(`invitegw -demo at ${openURL}, and with JWT authentication at ${authURL} (JWKS at ${jwksURL})`);

  // 1. The authenticated invitegw as its callers meet it, without a gateway.
  const direct = {};
  for (const [caller, authorization] of Object.entries(callers)) {
    const res = await gql(authURL, `{ organization(id: "elastic:1004245913") { id name } }`, undefined, authorization);
    direct[caller] = { status: res.status, "www-authenticate": res.headers.get("www-authenticate"), body: res.body };
  }
  expect("auth-direct", direct);

  // 2. Composition, with the open invitegw and with the authenticated one.
  const open = await compose(openURL, usersURL);
  const auth = await compose(authURL, usersURL, callers.reader);
  for (const [name, composed] of [["open", open], ["JWT", auth]]) {
    if (composed.errors?.length) {
      fail(`composition (${name}): ${composed.errors.map((e) => e.message).join("; ")}`);
      return;
    }
    ok(`composition (${name}): 0 errors${composed.hints?.length ? `, ${composed.hints.length} hints` : ""}`);
  }
  if (auth.supergraphSdl.replaceAll(authURL, openURL) !== open.supergraphSdl) {
    fail("the supergraphs with the open and the authenticated invitegw differ beyond invitegw's URL");
  }
  // Every @requiresScopes invitegw declares reaches the supergraph, linked for: SECURITY.
  const declared = requiresScopesIn(auth.sdl);
  const composedScopes = requiresScopesIn(auth.supergraphSdl);
  if (!auth.supergraphSdl.includes(securityLink)) fail(`the supergraph lacks ${securityLink}`);
  if (Object.keys(declared).length === 0) fail("invitegw's SDL declares no @requiresScopes");
  else if (isDeepStrictEqual(declared, composedScopes)) ok(`supergraph: the ${Object.keys(declared).length} @requiresScopes of invitegw's SDL, linked for: SECURITY`);
  else fail(`@requiresScopes in the supergraph ${JSON.stringify(composedScopes)}, in invitegw's SDL ${JSON.stringify(declared)}`);
  expect("supergraph-requires-scopes", composedScopes);

  // 3. Real gateways over each supergraph: Apollo's, and Hive's.
  await checkApolloGatewayRefuses(auth.supergraphSdl);
  const gateways = [
    ["@apollo/gateway", "apollo-gateway", startApolloGateway],
    ["@graphql-hive/gateway-runtime", "hive-gateway", startHive],
  ];
  for (const [name, slug, start] of gateways) {
    const [openGatewayURL, authGatewayURL] = [await start(open.supergraphSdl), await start(auth.supergraphSdl)];
    ok(`${name} at ${openGatewayURL} (open invitegw) and ${authGatewayURL} (JWT)`);

    // Over the open invitegw and, with the reader's token, the authenticated one: the same answers.
    for (const [via, url, authorization] of [[name, openGatewayURL], [`${name}, reader`, authGatewayURL, callers.reader]]) {
      for (const [file, [query, variables]] of Object.entries(queries)) {
        expect(file, (await gql(url, query, variables, authorization)).body, via);
      }
    }
    // Callers invitegw refuses: what each gateway makes of it, HTTP status included.
    for (const caller of ["scopeless", "anonymous"]) {
      for (const [kind, [query, variables]] of Object.entries(refusedQueries)) {
        const res = await gql(authGatewayURL, query, variables, callers[caller]);
        expect(`${caller}-${kind}.${slug}`, { status: res.status, body: res.body }, name);
      }
    }
  }

  // An entity fetch that misses: the gateway gets null plus an error for that entity only.
  const entities = await gql(openURL, `query($r: [_Any!]!) { _entities(representations: $r) {
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
  const results = await auditServer({ url: openURL });
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
