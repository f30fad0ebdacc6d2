"use strict";

// The API reference: Swagger UI on the service's own OpenAPI document. Every option here keeps the
// page on its own origin: no validator badge (it would call validator.swagger.io), no configuration
// or document URL taken from the address bar, and no authorisation kept after the tab closes.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  queryConfigEnabled: false,
  persistAuthorization: false,
  displayRequestDuration: true,
});
