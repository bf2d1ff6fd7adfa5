import type { FastifyHelmetOptions } from '@fastify/helmet';

/**
 * helmet's defaults, with the exceptions Swagger UI (served from /docs) needs: its own scripts,
 * inline styles and the validator badge's image.
 */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
    },
  },
};
