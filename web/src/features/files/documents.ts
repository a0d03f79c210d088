// The GraphQL documents of the files feature. Typed by graphql-codegen from ../schema.graphql (codegen.ts).
import { graphql } from '../../gql';

export const FilesQuery = graphql(`
  query Files($path: String, $first: Int, $after: String, $search: String, $sort: FileSort) {
    files(path: $path, first: $first, after: $after, search: $search, sort: $sort) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        path
        name
        isDir
        sizeBytes
        modifiedAt
        category
      }
    }
  }
`);

export const FileLinkMutation = graphql(`
  mutation FileLink($path: String!, $inline: Boolean) {
    fileLink(path: $path, inline: $inline)
  }
`);

export const CreateFolderMutation = graphql(`
  mutation CreateFolder($path: String!) {
    createFolder(path: $path) {
      path
    }
  }
`);

export const RenameEntryMutation = graphql(`
  mutation RenameEntry($path: String!, $newName: String!) {
    renameEntry(path: $path, newName: $newName) {
      id
      status
    }
  }
`);

export const MoveEntriesMutation = graphql(`
  mutation MoveEntries($paths: [String!]!, $to: String!) {
    moveEntries(paths: $paths, to: $to) {
      id
      status
    }
  }
`);

export const DeleteEntriesMutation = graphql(`
  mutation DeleteEntries($paths: [String!]!) {
    deleteEntries(paths: $paths) {
      id
      status
    }
  }
`);
