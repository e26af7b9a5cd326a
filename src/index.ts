export * from './template-bundle';
export * from './environment-template';
export * from './service-template';
export * from './environment-template-version';
export * from './service-template-version';
export * from './environment';
export * from './service';
export * from './account-settings';
