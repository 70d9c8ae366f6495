// Renders /api/openapi.json with Swagger UI (served from npm under /api/docs/assets).
(function () {
  var node = document.getElementById("reference");
  window.SwaggerUIBundle({
    url: node.getAttribute("data-spec"),
    domNode: node,
    deepLinking: true,
    // The key typed under "Authorize" is kept in this browser tab only, never sent anywhere else.
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
  });
})();
