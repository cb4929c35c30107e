// Starts GraphiQL against the endpoint the page names (data-endpoint), with invitegw's
// example query. A file, not an inline script, so the page's Content-Security-Policy can
// forbid inline scripts.
(function () {
  var root = document.getElementById('graphiql');
  var defaultQuery = [
    '# invitegw: every pending invitation of Redpanda Cloud, Elastic Cloud and Raystack Frontier.',
    '# Press the run button (or Ctrl-Enter). The Docs tab lists the whole schema.',
    '#',
    '# Offboarding someone? See what is still open to them everywhere, then revoke it all:',
    '#   mutation { revokeInvitations(input: {email: "ada@example.com", dryRun: true}) {',
    '#     results { id provider revoked error { code message } } } }',
    '# createInvitations invites emails into several organizations at once.',
    '{',
    '  invitations(filter: {status: [PENDING]}, first: 10) {',
    '    totalCount',
    '    nodes {',
    '      id provider email status expiresAt',
    '      organization { name }',
    '      roleBindings { roleName scope { resourceType resourceId } }',
    '    }',
    '  }',
    '}',
    ''
  ].join('\n');
  var fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultQuery: defaultQuery, defaultEditorToolsVisibility: false })
  );
})();
