import type { CodegenConfig } from '@graphql-codegen/cli';

// Types come from the server's SDL, so the UI cannot drift from the API:
// a renamed field or argument fails `npm run typecheck`.
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        scalars: {
          BigInt: 'number',
          DateTime: 'string',
          Upload: 'File',
        },
      },
    },
  },
};
export default config;
