export * from './http-server';
export * from './inbox';
export * from './mail';
export * from './mime';
export * from './twilio';
