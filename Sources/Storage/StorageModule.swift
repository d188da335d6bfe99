// The Store implementations arrive with the SQL layer (issue 3, storage branch).
import Handlers
