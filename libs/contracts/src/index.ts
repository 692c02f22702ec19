export * from './envelope';
export * from './topics';
export * from './events';
export * from './json-schema';
export * from './asyncapi';
export * from './http';
